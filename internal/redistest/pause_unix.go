//go:build unix

package redistest

import "syscall"

// Pause stops the server without closing its connections, as an
// overloaded or swapped-out Redis answers nothing; Resume wakes it. The
// test's end resumes it too, so that Stop can end it.
func (s *Server) Pause() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(s.Resume)
}

// Resume wakes a paused server.
func (s *Server) Resume() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT)
	}
}
