package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder walks the YAML tree beside the Go value it fills, so that every
// problem carries the path of its field and its line, and one bad value
// does not hide the next. yaml's own decoder stops at the first error a
// custom type returns, and names neither the key nor, for type mismatches,
// anything but the Go type.
type decoder struct {
	errs []error
	src  *source
}

// source remembers where each setting was in the file, so that problems
// found later (by Validate, Warnings, CheckStore) can name their line too.
type source struct {
	lines map[string]int  // field path → line of its key or list item
	bad   map[string]bool // field paths that failed to decode
}

// maxDepth bounds the walk: aliases can make a YAML tree a cycle.
const maxDepth = 32

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

func (d *decoder) fail(path string, n *yaml.Node, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{Path: path, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
	d.src.bad[path] = true
}

// decode fills v, which must be addressable, from n.
func (d *decoder) decode(path string, n *yaml.Node, v reflect.Value, depth int) {
	for n.Kind == yaml.AliasNode && n.Alias != nil && depth < maxDepth {
		n = n.Alias
		depth++
	}
	if depth >= maxDepth {
		d.fail(path, n, "is nested too deeply (an alias that refers to itself?)")
		return
	}
	if reflect.PointerTo(v.Type()).Implements(unmarshalerType) {
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.fail(path, n, "%s", err.Error())
		}
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.mapping(path, n, v, depth)
	case reflect.Slice:
		if isNull(n) {
			v.SetZero() // "users:" alone empties the list, as yaml does
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.fail(path, n, "want a list, e.g. [a, b], not %s", describe(n))
			return
		}
		s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			d.src.lines[p] = item.Line
			d.decode(p, item, s.Index(i), depth+1)
		}
		v.Set(s)
	case reflect.Pointer:
		if isNull(n) {
			v.SetZero()
			return
		}
		e := reflect.New(v.Type().Elem())
		d.decode(path, n, e.Elem(), depth+1)
		v.Set(e)
	case reflect.Map, reflect.Interface, reflect.Array:
		// None in Config today: yaml's own decoding, without its words.
		tmp := reflect.New(v.Type())
		if err := n.Decode(tmp.Interface()); err != nil {
			d.fail(path, n, "want %s, not %s", kindWords(v.Kind()), describe(n))
			return
		}
		v.Set(tmp.Elem())
	default:
		d.scalar(path, n, v)
	}
}

// mapping fills the struct v from the mapping n, key by key.
func (d *decoder) mapping(path string, n *yaml.Node, v reflect.Value, depth int) {
	if isNull(n) {
		return // an empty section keeps the defaults
	}
	if n.Kind != yaml.MappingNode {
		d.fail(path, n, "want a section of keys (key: value), not %s", describe(n))
		return
	}
	keys := yamlKeys(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" { // "<<: *defaults" or "<<: [*a, *b]"
			d.merge(path, val, v, depth+1)
			continue
		}
		p := join(path, k.Value)
		if line, dup := seen[k.Value]; dup {
			d.fail(p, k, "is set twice (first at line %d)", line)
			continue
		}
		seen[k.Value] = k.Line
		field, ok := keys[k.Value]
		if !ok {
			d.fail(p, k, "unknown key%s", suggest(k.Value, path, keys))
			continue
		}
		d.src.lines[p] = k.Line
		d.decode(p, val, v.Field(field), depth+1)
	}
}

// merge fills the struct v from the mappings a merge key names.
func (d *decoder) merge(path string, n *yaml.Node, v reflect.Value, depth int) {
	for n.Kind == yaml.AliasNode && n.Alias != nil && depth < maxDepth {
		n = n.Alias
		depth++
	}
	if n.Kind == yaml.SequenceNode && depth < maxDepth {
		for _, item := range n.Content {
			d.merge(path, item, v, depth+1)
		}
		return
	}
	d.mapping(path, n, v, depth)
}

// scalar fills a plain value (string, number, bool) from n.
func (d *decoder) scalar(path string, n *yaml.Node, v reflect.Value) {
	want := kindWords(v.Kind())
	if n.Kind != yaml.ScalarNode {
		d.fail(path, n, "want %s, not %s", want, describe(n))
		return
	}
	tmp := reflect.New(v.Type())
	if err := n.Decode(tmp.Interface()); err != nil {
		if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 && v.Kind() != reflect.String {
			d.fail(path, n, "%q is in quotes, which makes it text: want %s, without quotes", n.Value, want)
			return
		}
		d.fail(path, n, "%q is not %s", n.Value, want)
		return
	}
	if isNull(n) {
		return // "password_length:" alone keeps the default, as yaml does
	}
	v.Set(tmp.Elem())
}

func isNull(n *yaml.Node) bool {
	return n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// describe names what a node is, in the file's terms.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a section of keys"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	case yaml.AliasNode:
		return "an alias"
	}
	return "this"
}

func kindWords(k reflect.Kind) string {
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.String:
		return "text"
	case reflect.Map:
		return "a section of keys"
	case reflect.Array:
		return "a list"
	}
	return "a " + k.String()
}

// yamlKeys maps each key of a struct's YAML form to its field index.
func yamlKeys(t reflect.Type) map[string]int {
	keys := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		keys[name] = i
	}
	return keys
}

// suggest names the key meant by a misspelt one, or lists the keys.
func suggest(key, path string, keys map[string]int) string {
	// A slip of a key or two, never more than a third of the key.
	best, bestDist := "", min(2, len(key)/3)+1
	names := make([]string, 0, len(keys))
	for name := range keys {
		names = append(names, name)
		if dist := editDistance(key, name); dist < bestDist || (dist == bestDist && name < best) {
			best, bestDist = name, dist
		}
	}
	if best != "" {
		return fmt.Sprintf(": did you mean %q?", best)
	}
	slices.Sort(names)
	where := path
	if where == "" {
		where = "the top level"
	}
	return fmt.Sprintf("; %s takes %s", where, strings.Join(names, ", "))
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// line returns the line of path in the file, or of the nearest enclosing
// setting that is there; 0 when none is.
func (s *source) line(path string) int {
	if s == nil {
		return 0
	}
	for path != "" {
		if l, ok := s.lines[path]; ok {
			return l
		}
		path = parent(path)
	}
	return 0
}

// decodedBadly reports whether path, or a setting enclosing it, failed to
// decode: its value is then the default, and checking it again would only
// repeat the problem in other words.
func (s *source) decodedBadly(path string) bool {
	if s == nil {
		return false
	}
	for path != "" {
		if s.bad[path] {
			return true
		}
		path = parent(path)
	}
	return false
}

// parent strips the last ".key" or "[i]" from a field path.
func parent(path string) string {
	i := strings.LastIndexAny(path, ".[")
	if i < 0 {
		return ""
	}
	return path[:i]
}
