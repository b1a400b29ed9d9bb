package bulk

import (
	"fmt"
	"strconv"
	"time"
)

// Stats is what a run did with each ID it read.
type Stats struct {
	// Done are the IDs whose call succeeded.
	Done int
	// Failed are the IDs whose call failed, MaybeMade of them creates
	// that were sent and may have made a credential all the same.
	Failed, MaybeMade int
	// Skipped are the IDs a prior run did.
	Skipped int
	// Duplicate are the IDs that came again in the input.
	Duplicate int
	// NotStarted are the IDs read, or left in the input, when the run
	// stopped.
	NotStarted int
	// HeldBack are the IDs not called because an earlier call may have
	// made their credential: Held, from a prior run's record, and
	// Claimed, by another run sharing the claims.
	HeldBack int
	// Held lists the IDs held back by a prior run's record.
	Held []string
	// Claimed lists the IDs held back by another run's claim.
	Claimed []string
	// Read are the IDs read from the input.
	Read int
	// Sent are the calls that went out; the rate is theirs.
	Sent int
	// Met429 are the answers of 429, retried ones included.
	Met429 int
	// Stopped says why the run stopped sending, if it did.
	Stopped string
	// ReadErr is what ended reading the input early, if anything did.
	ReadErr error
	// Took is the run's time.
	Took time.Duration
}

// finished is how many IDs read have their outcome.
func (st Stats) finished() int {
	return st.Done + st.Failed + st.Skipped + st.Duplicate + st.HeldBack
}

// Summary is the run's last line for the job's command: its counts, its
// rate of calls sent, and, when it ended early (interrupted, or stopped),
// how to resume. total is the input's count of IDs, -1 if unknown; shared
// says the rate was shared with other runs.
func (st Stats) Summary(name string, total int, interrupted, shared bool) string {
	s := fmt.Sprintf("signintokens %s: %d done, %d failed", name, st.Done, st.Failed)
	if st.MaybeMade > 0 {
		s += fmt.Sprintf(" (%d of them may have made a token: their create was sent)", st.MaybeMade)
	}
	s += fmt.Sprintf(", %d skipped (done before), %d duplicate, %d not started", st.Skipped, st.Duplicate, st.NotStarted)
	if st.HeldBack > 0 {
		s += fmt.Sprintf(", %d held back (may already have a token)", st.HeldBack)
	}
	if st.Sent == 0 {
		s += fmt.Sprintf(" in %s (nothing was sent", st.Took.Round(time.Millisecond))
	} else {
		s += fmt.Sprintf(" in %s (%.0f/s", st.Took.Round(time.Millisecond), float64(st.Sent)/max(st.Took.Seconds(), 0.001))
	}
	if shared {
		s += ", the rate shared through Redis"
	}
	if st.Met429 > 0 {
		s += fmt.Sprintf(", %d answers of 429", st.Met429)
	}
	s += ")"
	switch {
	case interrupted:
		s += "; interrupted"
	case st.Stopped != "":
		s += "; stopped: " + st.Stopped
	}
	if interrupted || st.Stopped != "" {
		if total < 0 {
			s += ", and the rest of the input was not read"
		}
		s += ": run the same command again to resume"
	}
	return s
}

// CountUsers is "1 user" or "N users".
func CountUsers(n int) string {
	if n == 1 {
		return "1 user"
	}
	return strconv.Itoa(n) + " users"
}
