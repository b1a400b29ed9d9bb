// Command apicheck lists the exported API of the module's public packages,
// one line per name (functions, methods, types, constants, variables, and
// the fields of exported struct types, through aliases too, so that a type
// client re-exports from gen shows the fields and methods openapi.yaml
// gives it), and
// compares it with the baseline recorded in api/. A line of the baseline
// that is missing, a name removed or a signature changed, fails; a new
// line is reported, to be recorded. A breaking change is thus a deliberate
// edit of the baseline, with a line in CHANGELOG.md.
//
//	go run ./internal/apicheck          # compare (make api-check)
//	go run ./internal/apicheck -write   # record the current API as the baseline
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"go/importer"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// public are the packages whose API is recorded, by import path.
func public() []string {
	return []string{
		"github.com/clerkgo/signintokens/client",
		"github.com/clerkgo/signintokens/clerktest",
		"github.com/clerkgo/signintokens/redislimit",
	}
}

func main() {
	write := flag.Bool("write", false, "record the current API in api/ instead of comparing")
	dir := flag.String("dir", "api", "the baseline's directory")
	flag.Parse()
	if err := run(os.Stdout, *dir, *write); err != nil {
		fmt.Fprintln(os.Stderr, "apicheck:", err)
		os.Exit(1)
	}
}

func run(out io.Writer, dir string, write bool) error {
	pkgs, err := load(public())
	if err != nil {
		return err
	}
	broken := 0
	for _, p := range pkgs {
		lines := apiLines(p)
		file := filepath.Join(dir, p.Name()+".txt")
		if write {
			if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
				return err
			}
			continue
		}
		b, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("no baseline for %s (run go run ./internal/apicheck -write): %w", p.Path(), err)
		}
		base := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		for _, l := range base {
			if !slices.Contains(lines, l) {
				fmt.Fprintf(out, "removed or changed: %s\n", l)
				broken++
			}
		}
		for _, l := range lines {
			if !slices.Contains(base, l) {
				fmt.Fprintf(out, "new (record it with -write): %s\n", l)
			}
		}
	}
	if broken > 0 {
		return fmt.Errorf("%d exported names were removed or changed: if that is meant, record the API with -write "+
			"and say so in CHANGELOG.md", broken)
	}
	return nil
}

// load type-checks the packages from the export data the go command
// builds, read by the standard library's importer: it is the toolchain's
// own, so it reads what that toolchain writes (golang.org/x/tools' copy of
// the reader lags a new Go release's format).
func load(paths []string) ([]*types.Package, error) {
	cmd := exec.Command("go", append([]string{"list", "-export", "-deps", "-json=ImportPath,Export"}, paths...)...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -export: %w", err)
	}
	exports := map[string]string{}
	for dec := json.NewDecoder(bytes.NewReader(out)); dec.More(); {
		var p struct{ ImportPath, Export string }
		if err := dec.Decode(&p); err != nil {
			return nil, err
		}
		exports[p.ImportPath] = p.Export
	}
	imp := importer.ForCompiler(token.NewFileSet(), "gc", func(path string) (io.ReadCloser, error) {
		if exports[path] == "" {
			return nil, fmt.Errorf("no export data for %s", path)
		}
		return os.Open(exports[path])
	})
	var pkgs []*types.Package
	for _, path := range paths {
		pkg, err := imp.Import(path)
		if err != nil {
			return nil, err
		}
		pkgs = append(pkgs, pkg)
	}
	return pkgs, nil
}

// apiLines lists pkg's exported API, sorted.
func apiLines(pkg *types.Package) []string {
	qual := func(p *types.Package) string {
		if p == pkg {
			return ""
		}
		return p.Name()
	}
	var lines []string
	scope := pkg.Scope()
	for _, name := range scope.Names() {
		obj := scope.Lookup(name)
		if !obj.Exported() {
			continue
		}
		lines = append(lines, objectString(obj, qual))
		if tn, ok := obj.(*types.TypeName); ok {
			lines = append(lines, typeLines(tn, qual)...)
		}
	}
	for i, l := range lines {
		lines[i] = "pkg " + pkg.Name() + ", " + l
	}
	slices.Sort(lines)
	return lines
}

// typeLines lists a type's exported fields (through an alias, the aliased
// type's) and its declared exported methods (an interface's, all of them;
// through an alias of another package's type, that type's).
func typeLines(tn *types.TypeName, qual types.Qualifier) []string {
	var lines []string
	t := types.Unalias(tn.Type())
	if st, ok := t.Underlying().(*types.Struct); ok {
		for f := range st.Fields() {
			if f.Exported() {
				lines = append(lines, fmt.Sprintf("type %s struct, %s %s", tn.Name(), f.Name(), types.TypeString(f.Type(), qual)))
			}
		}
	}
	named, ok := t.(*types.Named)
	if !ok || tn.IsAlias() && named.Obj().Pkg() == tn.Pkg() {
		return lines // an alias within the package: the type has its own lines
	}
	for m := range named.Methods() {
		if m.Exported() {
			// Through an alias of another package's type (client.SignInToken
			// = gen.SignInToken), its methods are this package's API too,
			// listed under the alias's name.
			recv := types.TypeString(m.Type().(*types.Signature).Recv().Type(), qual)
			as := strings.Replace(recv, types.TypeString(named, qual), tn.Name(), 1)
			lines = append(lines, strings.Replace(objectString(m, qual), "func ("+recv+")", "func ("+as+")", 1))
		}
	}
	if iface, ok := named.Underlying().(*types.Interface); ok {
		for m := range iface.Methods() {
			if m.Exported() {
				lines = append(lines, objectString(m, qual))
			}
		}
	}
	return lines
}

// objectString is types.ObjectString, but a function's or method's
// parameters and results without their names, as Go's own api files have
// them: renaming a parameter breaks no caller.
func objectString(obj types.Object, qual types.Qualifier) string {
	if tn, ok := obj.(*types.TypeName); ok && !tn.IsAlias() {
		// A struct's or interface's kind only: its exported fields and
		// methods have lines of their own, its unexported ones none.
		switch u := tn.Type().Underlying().(type) {
		case *types.Struct:
			return "type " + tn.Name() + " struct"
		case *types.Interface:
			return "type " + tn.Name() + " interface"
		default:
			return "type " + tn.Name() + " " + types.TypeString(u, qual)
		}
	}
	fn, ok := obj.(*types.Func)
	if !ok {
		return types.ObjectString(obj, qual)
	}
	sig := fn.Type().(*types.Signature)
	unnamed := func(t *types.Tuple) *types.Tuple {
		vars := make([]*types.Var, t.Len())
		for i := range vars {
			vars[i] = types.NewParam(0, nil, "", t.At(i).Type())
		}
		return types.NewTuple(vars...)
	}
	bare := types.NewSignatureType(nil, nil, nil, unnamed(sig.Params()), unnamed(sig.Results()), sig.Variadic())
	name := fn.Name()
	if recv := sig.Recv(); recv != nil {
		name = "(" + types.TypeString(recv.Type(), qual) + ")." + name
	}
	return "func " + name + strings.TrimPrefix(types.TypeString(bare, qual), "func")
}
