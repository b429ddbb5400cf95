// Package static embeds the panel's CSS, script and images so that the one
// binary serves them, nothing loaded from the internet.
package static
