package queue

import "github.com/postdesk/postdesk/tenants/seal"

// sealer seals the stored SMTP AUTH passwords (tenants/seal), under the
// key file Options.KeyFile names.
type sealer struct{ s *seal.Sealer }

// errNoKey is returned when no key file is configured.
var errNoKey = seal.ErrNoKey

func newSealer(path string) *sealer { return &sealer{s: seal.New(path)} }

// seal encrypts a secret for the entry named by owner.
func (s *sealer) seal(plain, owner string) (string, error) { return s.s.Seal(plain, owner) }

// open decrypts what seal made for owner.
func (s *sealer) open(sealed, owner string) (string, error) { return s.s.Open(sealed, owner) }
