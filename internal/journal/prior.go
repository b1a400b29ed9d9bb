package journal

import "github.com/clerkgo/signintokens/internal/idset"

// Prior is what an earlier run's record says of its IDs.
type Prior struct {
	// Done holds the IDs with a success line, each with the value DoneBit.
	Done *idset.Set
	// Uncertain are the IDs whose call was sent with no outcome line (the
	// run ended while it was in flight) or whose failure is marked
	// uncertain, with their input line: a create of them may have made a
	// credential, and a revoke of them may have revoked it.
	Uncertain map[string]int
}

// DoneBit marks an ID of Prior.Done; the bits below it are free for a
// run's own use of the set.
const DoneBit = 1 << 31

// NewPrior is the record of no run.
func NewPrior() Prior { return Prior{Done: idset.New(), Uncertain: map[string]int{}} }

// note takes one line into account; later lines win.
func (p Prior) note(l *Line) error {
	switch {
	case l.Sending || l.Uncertain || l.HeldBack:
		p.Uncertain[l.Key] = l.Line
	case l.Error != nil:
		delete(p.Uncertain, l.Key)
	case l.ID != "" || l.Skipped:
		delete(p.Uncertain, l.Key)
		return p.Done.Put(l.Key, DoneBit)
	}
	return nil
}
