// Command signintokens creates and revokes Clerk sign-in tokens, and runs a
// fake Clerk server for tests.
//
//	signintokens create --user-id USER [--org-id ORG] [--expires-in 1h] [--json]
//	signintokens create --from FILE --journal RUN.jsonl [--concurrency 4] [--rate 9]
//	signintokens revoke SIGN_IN_TOKEN_ID [--json]
//	signintokens revoke --from FILE --journal RUN.jsonl
//	signintokens demo
//	signintokens fake-server [--addr 127.0.0.1:8765] [--users FILE] [--any-user] [--rate-limit 100/10s]
//
// create and revoke read the secret key from CLERK_SECRET_KEY and the server
// from --server-url or CLERK_API_URL (default https://api.clerk.com/v1).
// demo needs neither: it runs against the fake, in process. The exit status
// is 0 on success, 1 on an API or transport error, and 2 on bad usage or
// invalid input.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"syscall"

	"github.com/redis/go-redis/v9"
	"golang.org/x/term"

	"github.com/clerkgo/signintokens/client"
	"github.com/clerkgo/signintokens/internal/bulk"
	"github.com/clerkgo/signintokens/internal/journal"
)

// Exit statuses.
const (
	exitOK       = 0
	exitAPIError = 1
	exitUsage    = 2
)

const usage = `usage: signintokens COMMAND [flags]

commands:
  create        create a sign-in token for a user
  revoke        revoke a pending sign-in token
  demo          create, show, revoke and revoke again against a fake server in process
  fake-server   serve a fake Clerk API for tests

Run 'signintokens COMMAND --help' for a command's flags and an example.
create and revoke read CLERK_SECRET_KEY, and CLERK_API_URL or --server-url.
`

// cli is what a command may use of its environment.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	progress       io.Writer  // a terminal for the progress line, or nil
	width          func() int // the progress terminal's width in columns
	getenv         func(string) string
}

func main() {
	// go-redis logs each failed dial on its own; a run says what failed in
	// its own words, once.
	redis.SetLogger(quietRedis{})
	c := cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}
	// A progress line only when stderr is a terminal and stdout is not:
	// on one terminal, it and a run's JSON lines would share lines.
	if fd := int(os.Stderr.Fd()); term.IsTerminal(fd) && !term.IsTerminal(int(os.Stdout.Fd())) {
		c.progress = os.Stderr
		c.width = func() int {
			w, _, err := term.GetSize(fd)
			if err != nil {
				return 80
			}
			return w
		}
	}
	os.Exit(c.run(interruptible(), os.Args[1:]))
}

// quietRedis is a go-redis logger that writes nothing.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// interruptible returns a context that the first SIGINT (Ctrl-C), SIGTERM,
// SIGQUIT (Ctrl-\), SIGHUP (a closed terminal or SSH session) or SIGPIPE (a
// closed pipe on stdout) ends, with the signal as its cause, so that a
// command stops cleanly and exits 128 plus the signal's number. The default
// action of the first four is restored then, so a second Ctrl-C ends the
// process at once (and a second SIGQUIT dumps its goroutines). SIGPIPE stays caught: a write to
// a closed pipe then fails with EPIPE instead of killing the process before
// it reports what it did.
func interruptible() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGHUP, syscall.SIGPIPE)
	go func() {
		sig := <-sigs
		signal.Reset(os.Interrupt, syscall.SIGTERM, syscall.SIGQUIT, syscall.SIGHUP)
		cancel(signalled{sig})
	}()
	return ctx
}

// signalled is the cause of a context a signal ended.
type signalled struct{ sig os.Signal }

func (s signalled) Error() string { return "stopped by " + s.sig.String() }

// interruptedCode is the exit status of a command a signal stopped: 128 and
// the signal's number, as a shell reports a process the signal ended.
func interruptedCode(ctx context.Context) int {
	var s signalled
	if !errors.As(context.Cause(ctx), &s) {
		return exitInterrupted
	}
	if n, ok := s.sig.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return exitInterrupted
}

func (c cli) run(ctx context.Context, args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usage)
		return exitUsage
	}
	commands := map[string]func(context.Context, []string) int{
		"create":      c.create,
		"revoke":      c.revoke,
		"demo":        c.demo,
		"fake-server": c.fakeServer,
	}
	switch cmd, ok := commands[args[0]]; {
	case ok:
		return cmd(ctx, args[1:])
	case args[0] == "help" || args[0] == "-h" || args[0] == "--help":
		fmt.Fprint(c.stdout, usage)
		return exitOK
	case args[0] == "version" || args[0] == "--version":
		fmt.Fprintln(c.stdout, version())
		return exitOK
	default:
		fmt.Fprintf(c.stderr, "signintokens: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

// flags returns a flag set for a command whose --help shows its synopsis
// and an example.
func (c cli) flags(name, synopsis, example string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: signintokens %s\n\nexample:\n  %s\n\nflags:\n", synopsis, example)
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags and positional arguments in any order.
func parse(fs *flag.FlagSet, args []string) (positional []string, err error) {
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return positional, nil
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// parseArgs parses a command's flags and takes at most max positional
// arguments, named name in the usage error. When ok is false the command is
// done and exits with code. Asked for (--help), the usage goes to stdout,
// as signintokens --help's does; after a bad flag, to stderr.
func (c cli) parseArgs(fs *flag.FlagSet, args []string, max int, name string) (positional []string, code int, ok bool) {
	if asksHelp(args) {
		fs.SetOutput(c.stdout)
	}
	positional, err := parse(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return nil, exitOK, false
	case err != nil:
		return nil, exitUsage, false // the flag package said why
	case len(positional) > max && max == 0:
		return nil, c.usageError(fs, "unexpected argument %q", positional[0]), false
	case len(positional) > max:
		return nil, c.usageError(fs, "want one %s, got %d arguments", name, len(positional)), false
	}
	return positional, exitOK, true
}

// asksHelp reports whether args ask for a command's help (-h, --help),
// before any "--".
func asksHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--h", "--help":
			return true
		}
	}
	return false
}

// version is what --version prints: the module's version (as go install
// recorded it; "(devel)" for a build from a checkout), the SDK's, and Go's.
func version() string {
	mod, goVersion := "(unknown)", runtime.Version()
	if bi, ok := debug.ReadBuildInfo(); ok {
		mod, goVersion = bi.Main.Version, bi.GoVersion
	}
	return fmt.Sprintf("signintokens %s (SDK %s, %s)", mod, client.Version, goVersion)
}

// usageError reports bad usage of a command and returns exitUsage.
func (c cli) usageError(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(c.stderr, "signintokens %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(c.stderr, "Run 'signintokens %s --help' for usage.\n", fs.Name())
	return exitUsage
}

// newClient returns a client configured from the environment and flags.
func (c cli) newClient(serverURL string, opts ...client.Option) (*client.Client, error) {
	if serverURL == "" {
		serverURL = c.getenv("CLERK_API_URL")
	}
	if serverURL == "" {
		serverURL = client.DefaultServerURL
	}
	key := c.getenv("CLERK_SECRET_KEY")
	if key == "" {
		return nil, fmt.Errorf("%w: CLERK_SECRET_KEY is not set", client.ErrInvalidRequest)
	}
	return client.New(append([]client.Option{
		client.WithSecretKey(key),
		client.WithServerURL(serverURL),
		client.WithUserAgent("signintokens-cli/" + client.Version),
	}, opts...)...)
}

// jsonError is how --json reports an error on stdout.
type jsonError struct {
	Error journal.ErrorInfo `json:"error"`
}

// describe says what kind of error err is, and the exit status it calls for.
func describe(err error) (journal.ErrorInfo, int) {
	if errors.Is(err, client.ErrInvalidRequest) {
		return bulk.Describe(err), exitUsage
	}
	return bulk.Describe(err), exitAPIError
}

// fail reports err, as a line on stderr or as JSON on stdout, and returns
// the exit status it calls for.
func (c cli) fail(err error, asJSON bool) int {
	info, status := describe(err)
	if asJSON {
		c.printJSON(jsonError{Error: info})
	} else {
		fmt.Fprintf(c.stderr, "signintokens: %v\n", err)
	}
	return status
}

func (c cli) printJSON(v any) {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
