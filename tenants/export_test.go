package tenants

import "context"

// ImportSlots returns the Service's import slots, for tests that hold them
// as concurrent imports would.
func (s *Service) ImportSlots() chan struct{} { return s.importSlots }

// ForEachRow is forEachRow, for tests.
func (s *Service) ForEachRow(ctx context.Context, n int, fn func(i int)) error {
	return s.forEachRow(ctx, n, fn)
}

// HashesRun is how many password hashes the Service has run.
func (s *Service) HashesRun() int64 { return s.auth.hashed.Load() }
