package deploycheck

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"golang.org/x/tools/go/callgraph"
	"golang.org/x/tools/go/callgraph/rta"
	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"
)

// sdkPrefix is where the AWS SDK's service clients live.
const sdkPrefix = "github.com/aws/aws-sdk-go-v2/service/"

// modulePath is this module's.
const modulePath = "github.com/tangkal/tangkal/"

// fromEnv is the configuration step every function's main runs before its
// handler: the calls it makes depend on which variables are set.
const fromEnv = "github.com/tangkal/tangkal/internal/wiring.FromEnv"

// operation is one AWS SDK client method, e.g. sfn.SendTaskSuccess.
type operation struct{ Service, Name string }

func (o operation) String() string { return o.Service + "." + o.Name }

// reach is what one function's program can call: at run time (reachable
// from main without passing through wiring.FromEnv: the handler and what
// it is handed) and while configuring (only through wiring.FromEnv). Each
// operation comes with a call chain that leads to it.
type reach struct {
	Handler, Config map[operation][]string
	// Unseen are SDK helpers our code calls that make calls of their own
	// the analysis cannot see (their bodies are not analysed).
	Unseen []string
}

var (
	reachOnce sync.Once
	reachAll  map[string]reach
	reachErr  error
)

// reachableOperations analyses every functions/<name> program once: whole-
// program SSA, rapid type analysis (RTA) for the call graph, then a walk
// from main. The walk treats a function whose address is taken in reached
// code as called from there (handlers are started through reflection by
// lambda.Start), follows interface calls to every type RTA saw converted
// to an interface, and ignores RTA's blanket edges from reflect.Value.Call
// and its "every exported method may be called by reflection" rule, which
// would make every client method reachable.
func reachableOperations(t *testing.T, root string) map[string]reach {
	t.Helper()
	if raceBuild {
		// One goroutine, nothing to race; under the detector the analysis
		// costs minutes of CPU that `make test`'s other packages need.
		t.Skip("the call-graph analysis runs without -race: make lint (or go test ./internal/deploycheck/)")
	}
	reachOnce.Do(func() { reachAll, reachErr = analyse(root) })
	if reachErr != nil {
		t.Fatal(reachErr)
	}
	return reachAll
}

func analyse(root string) (map[string]reach, error) {
	cfg := &packages.Config{Mode: packages.LoadAllSyntax, Dir: root, ParseFile: parseFile}
	pkgs, err := packages.Load(cfg, "./functions/...")
	if err != nil {
		return nil, fmt.Errorf("load functions: %w", err)
	}
	var errs []string
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		for _, e := range p.Errors {
			if sdkPackage(p.PkgPath) && e.Kind == packages.TypeError && strings.Contains(e.Msg, "not used") {
				continue // an import only a stripped body used
			}
			errs = append(errs, e.Error())
		}
	})
	if len(errs) > 0 {
		return nil, fmt.Errorf("load functions: %s", strings.Join(errs, "; "))
	}
	prog := ssa.NewProgram(pkgs[0].Fset, ssa.InstantiateGenerics)
	created := map[*packages.Package]*ssa.Package{}
	packages.Visit(pkgs, nil, func(p *packages.Package) {
		created[p] = prog.CreatePackage(p.Types, p.Syntax, p.TypesInfo, true)
	})
	prog.Build()
	out := map[string]reach{}
	for _, p := range pkgs {
		sp := created[p]
		if p.Name != "main" {
			continue
		}
		roots := []*ssa.Function{sp.Func("main"), sp.Func("init")}
		res := rta.Analyze(roots, true)
		dir := filepath.Base(p.PkgPath)
		handler, unseen := walk(res.CallGraph, roots, fromEnv)
		config, unseenConfig := walk(res.CallGraph, roots, "")
		out[dir] = reach{Handler: handler, Config: config, Unseen: append(unseen, unseenConfig...)}
		for op := range out[dir].Handler {
			delete(out[dir].Config, op)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no main package under %s/functions", root)
	}
	return out, nil
}

// sdkPackage tells whether a package is the AWS SDK's (or smithy's, its
// runtime): analysed by its types only, without function bodies, since
// what matters is which of its client methods our code calls.
func sdkPackage(path string) bool {
	return strings.HasPrefix(path, "github.com/aws/aws-sdk-go-v2") || strings.HasPrefix(path, "github.com/aws/smithy-go")
}

// parseFile replaces the function bodies of the SDK's files: type-checking
// the generated clients' bodies takes most of the time and tells nothing.
func parseFile(fset *token.FileSet, filename string, src []byte) (*ast.File, error) {
	f, err := parser.ParseFile(fset, filename, src, parser.SkipObjectResolution)
	if err != nil || !strings.Contains(filepath.ToSlash(filename), "/github.com/aws/aws-sdk-go-v2") &&
		!strings.Contains(filepath.ToSlash(filename), "/github.com/aws/smithy-go") {
		return f, err
	}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok && fd.Body != nil {
			// panic(0): type-checks whatever the results, calls nothing.
			fd.Body = &ast.BlockStmt{Lbrace: fd.Body.Lbrace, Rbrace: fd.Body.Rbrace, List: []ast.Stmt{&ast.ExprStmt{
				X: &ast.CallExpr{Fun: ast.NewIdent("panic"), Args: []ast.Expr{&ast.BasicLit{Kind: token.INT, Value: "0"}}}}}}
		}
	}
	return f, nil
}

// walk returns the SDK operations reachable from roots, not passing
// through the function named avoid.
func walk(g *callgraph.Graph, roots []*ssa.Function, avoid string) (map[operation][]string, []string) {
	parent := map[*ssa.Function]*ssa.Function{}
	seen := map[*ssa.Function]bool{}
	var queue []*ssa.Function
	visit := func(f, from *ssa.Function) {
		if f == nil || seen[f] || (avoid != "" && f.String() == avoid) {
			return
		}
		seen[f], parent[f] = true, from
		queue = append(queue, f)
	}
	for _, r := range roots {
		visit(r, nil)
	}
	ops := map[operation][]string{}
	var unseen []string
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		if n := g.Nodes[f]; n != nil {
			for _, e := range n.Out {
				if e.Site == nil {
					continue // RTA's stand-in for "reflection may call anything"
				}
				if op, ok := sdkOperation(e.Callee.Func); ok {
					if _, dup := ops[op]; !dup && ours(f) {
						ops[op] = chain(parent, f)
					}
					continue
				}
				if ours(f) && callsOnItsOwn(e.Callee.Func) {
					unseen = append(unseen, e.Callee.Func.String()+" (from "+strings.Join(chain(parent, f), " → ")+")")
				}
				visit(e.Callee.Func, f)
			}
		}
		// A function value made here may be called later (by reflection,
		// a goroutine, a callback): treat it as called from here.
		var space [32]*ssa.Value
		for _, b := range f.Blocks {
			for _, instr := range b.Instrs {
				for _, v := range instr.Operands(space[:0]) {
					if fn, ok := (*v).(*ssa.Function); ok {
						visit(fn, f)
					}
				}
			}
		}
	}
	return ops, unseen
}

// callsOnItsOwn tells whether an SDK function may call AWS by itself where
// the analysis cannot follow: waiters, the feature packages' managers
// (uploads, downloads, paginated scans). Pure helpers (attribute values,
// expression builders, configuration) do not.
func callsOnItsOwn(f *ssa.Function) bool {
	obj := f.Object()
	if obj == nil || obj.Pkg() == nil {
		return false
	}
	path := obj.Pkg().Path()
	switch {
	case strings.HasPrefix(path, "github.com/aws/aws-sdk-go-v2/feature/"):
		return !strings.HasPrefix(path, "github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue") &&
			!strings.HasPrefix(path, "github.com/aws/aws-sdk-go-v2/feature/dynamodb/expression")
	case strings.HasPrefix(path, sdkPrefix):
		return strings.HasSuffix(f.Name(), "Waiter")
	}
	return false
}

// sdkOperation tells whether f is an exported method of an AWS SDK
// service's *Client.
func sdkOperation(f *ssa.Function) (operation, bool) {
	if f.Pkg == nil && f.Object() == nil {
		return operation{}, false
	}
	obj := f.Object()
	if obj == nil || obj.Pkg() == nil || !obj.Exported() {
		return operation{}, false
	}
	path := obj.Pkg().Path()
	if !strings.HasPrefix(path, sdkPrefix) || strings.Contains(strings.TrimPrefix(path, sdkPrefix), "/") {
		return operation{}, false
	}
	service := obj.Pkg().Name()
	recv := f.Signature.Recv()
	if recv == nil {
		// A paginator calls its operation page by page.
		if name, ok := strings.CutPrefix(f.Name(), "New"); ok && strings.HasSuffix(name, "Paginator") {
			return operation{Service: service, Name: strings.TrimSuffix(name, "Paginator")}, true
		}
		return operation{}, false
	}
	ptr, ok := recv.Type().(*types.Pointer)
	if !ok {
		return operation{}, false
	}
	named, ok := ptr.Elem().(*types.Named)
	if !ok {
		return operation{}, false
	}
	// A presigned request is made later, by whoever holds it, with this
	// role's credentials.
	if name, ok := strings.CutPrefix(f.Name(), "Presign"); ok && named.Obj().Name() == "PresignClient" {
		return operation{Service: service, Name: name}, true
	}
	if named.Obj().Name() != "Client" || f.Name() == "Options" {
		return operation{}, false
	}
	return operation{Service: service, Name: f.Name()}, true
}

// ours tells whether f is this module's code.
func ours(f *ssa.Function) bool {
	for f.Parent() != nil {
		f = f.Parent()
	}
	return f.Pkg != nil && strings.HasPrefix(f.Pkg.Pkg.Path(), modulePath)
}

// chain is the path of calls from main to f, shortened to our own code.
func chain(parent map[*ssa.Function]*ssa.Function, f *ssa.Function) []string {
	var names []string
	for ; f != nil; f = parent[f] {
		name := f.String()
		if strings.Contains(name, "github.com/tangkal/tangkal/") {
			name = strings.ReplaceAll(name, "github.com/tangkal/tangkal/", "")
			names = append(names, name)
		}
	}
	slices.Reverse(names)
	return names
}
