package imapd

// Hooks for the protocol tests of package imapd_test.

// SetMaxPending sets the update queue limit (hub.go) of the folders
// selected now, so that a test overflows a session's queue with a few
// changes.
func SetMaxPending(srv *Server, n int) {
	srv.hubsMu.Lock()
	defer srv.hubsMu.Unlock()
	for _, h := range srv.hubs {
		h.mu.Lock()
		h.maxPending = n
		h.mu.Unlock()
	}
}

// QueueStat is what waits for one session with a folder selected.
type QueueStat struct {
	Size   int  // updates queued, each arriving message counted
	Resync bool // the queue overflowed
}

// QueueStats returns the queues of the sessions with a folder selected.
func QueueStats(srv *Server) []QueueStat {
	srv.hubsMu.Lock()
	defer srv.hubsMu.Unlock()
	var out []QueueStat
	for _, h := range srv.hubs {
		h.mu.Lock()
		for _, s := range h.sessions {
			out = append(out, QueueStat{Size: s.q.size, Resync: s.q.resync})
		}
		h.mu.Unlock()
	}
	return out
}

// SetMaxSortMessages sets the most messages one SORT or THREAD orders.
func SetMaxSortMessages(srv *Server, n int) { srv.maxSortMessages = n }
