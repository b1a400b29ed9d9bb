package bulk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/clerkgo/signintokens/internal/journal"
)

// Claims are the users that the create runs of a fleet, sharing one Redis
// and one key, claimed before creating their tokens. A user another run
// claimed is held back, like an uncertain one: two runs on one input never
// make two tokens for one user. A claim lasts as long as the token it
// covers would, so it outlives the run; it holds the identity of the run's
// record (its journal, or its stdout file), so that a run resumed from that
// record takes its own claims back.
type Claims struct {
	rdb    redis.Cmdable
	prefix string
	own    []string // this run's record's identity first, then a resumed one's
	life   time.Duration
	// override takes a claim whoever holds it (--recreate-uncertain: the
	// operator checked).
	override bool
}

// errClaimed is a user that another run sharing the Redis claimed.
var errClaimed = errors.New("another run sharing the Redis claimed this user")

// NewClaims are the claims of a run on rdb with secretKey's fleet, each
// lasting life (the credential's); override takes a claim whoever holds
// it. The run takes as its own the claims held by record, the file it
// records to, and by resumed, the record it resumes from (each nil if
// none; see RecordIdentity).
func NewClaims(rdb redis.Cmdable, secretKey string, record, resumed *os.File, life time.Duration, override bool) *Claims {
	own := []string{RecordIdentity(record)}
	if resumed != nil {
		own = append(own, RecordIdentity(resumed))
	}
	sum := sha256.Sum256([]byte(secretKey))
	return &Claims{rdb: rdb, prefix: "signintokens:claim:" + hex.EncodeToString(sum[:16]) + ":", own: own,
		life: life, override: override}
}

// take claims userID for this run, or returns errClaimed, or the Redis
// failure that left it unknown (the call is then not sent).
func (c *Claims) take(ctx context.Context, userID string) error {
	key := c.prefix + userID
	ok, err := c.rdb.SetNX(ctx, key, c.own[0], c.life).Result()
	if err == nil && !ok {
		var holder string
		holder, err = c.rdb.Get(ctx, key).Result()
		switch {
		case errors.Is(err, redis.Nil): // the claim just expired
			err = c.rdb.Set(ctx, key, c.own[0], c.life).Err()
		case err == nil && !slices.Contains(c.own, holder) && !c.override:
			return errClaimed
		case err == nil:
			err = c.rdb.Set(ctx, key, c.own[0], c.life).Err()
		}
	}
	if err != nil {
		return fmt.Errorf("claiming the user in Redis: %w", err)
	}
	return nil
}

// RecordIdentity names the file a run records to, for its claims: the
// host, and the file's device and inode (journal.FileID). A run without a file
// record gets a random one, which no later run takes as its own.
func RecordIdentity(f *os.File) string {
	host, _ := os.Hostname()
	if f != nil {
		if id, ok := journal.FileID(f); ok {
			return host + ":" + id
		}
	}
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return host + ":run:" + hex.EncodeToString(b)
}
