schema_version = 1

project {
  license        = "MIT"
  copyright_year = 2022
  copyright_holder = "Jim Lambert"


    header_ignore = [
    ".github/**",
    "coverage/**"
  ]
}
