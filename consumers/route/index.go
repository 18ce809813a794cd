package route

import "slices"

// index maps the values an event can hold to the rules those values can
// satisfy, so that an event only evaluates the rules it can match.
//
// Each rule is filed under one of its fields, chosen at Add, best first:
//   - a field every alternative of which names the values it accepts by an
//     exact value, a prefix or a suffix (a wildcard files under its literal
//     head or tail): the rule can only match if one of the event's values at
//     that path is equal to, starts with or ends with one of the keys;
//   - a field that needs a value (anything-but, numeric, cidr,
//     equals-ignore-case, exists: true...): the rule is evaluated when the
//     event has a value at that path;
//   - a rule whose every field can hold without a value (exists: false) is
//     evaluated for every event.
//
// Whatever the index offers is then evaluated in full, so the index decides
// only which rules are evaluated, never what they answer.
type index struct {
	byPath []*fieldIndex // by path index; nil where no rule is filed
	paths  []int         // the paths with a fieldIndex
	rest   []int32       // rules filed under no field
}

type fieldIndex struct {
	exact      map[exactKey][]int32
	prefix     map[string][]int32
	suffix     map[string][]int32
	prefixLens []int // the distinct key lengths in prefix
	suffixLens []int
	present    []int32 // rules that need any value at the path
}

// exactKey is a value as the flattened event holds it.
type exactKey struct {
	kind kind
	s    string // a string, or a number's JSON text
}

type keyKind uint8

const (
	noKey keyKind = iota
	exactK
	prefixK
	suffixK
)

// key returns what a value must equal, start with or end with to satisfy m,
// or noKey when m does not say.
func key(m matcher) (keyKind, exactKey) {
	switch m := m.(type) {
	case matchString:
		return exactK, exactKey{kind: kString, s: string(m)}
	case matchNumber:
		return exactK, exactKey{kind: kNumber, s: string(m)}
	case matchBool:
		if m {
			return exactK, exactKey{kind: kTrue}
		}
		return exactK, exactKey{kind: kFalse}
	case matchNull:
		return exactK, exactKey{kind: kNull}
	case matchPrefix:
		if !m.fold {
			return prefixK, exactKey{kind: kString, s: m.s}
		}
	case matchSuffix:
		if !m.fold {
			return suffixK, exactKey{kind: kString, s: m.s}
		}
	case matchWildcard:
		switch segs := m.segs; {
		case len(segs) == 1:
			return exactK, exactKey{kind: kString, s: segs[0]}
		case segs[0] != "":
			return prefixK, exactKey{kind: kString, s: segs[0]}
		case segs[len(segs)-1] != "":
			return suffixK, exactKey{kind: kString, s: segs[len(segs)-1]}
		}
	}
	return noKey, exactKey{}
}

// score rates f as the field to file a rule under: 0 when f can hold
// without a value, 1 when it needs one, 2 when every alternative is an
// exact value, a prefix or a suffix, 3 when every one is an exact value.
func score(f *field) int {
	if f.absentOK {
		return 0
	}
	if f.presentOK {
		return 1
	}
	best := 3
	for _, m := range f.vals {
		switch k, _ := key(m); k {
		case noKey:
			return 1
		case prefixK, suffixK:
			best = 2
		}
	}
	return best
}

func (x *index) add(id int32, r *rule) {
	var f *field
	best := 0
	for i := range r.fields {
		if sc := score(&r.fields[i]); sc > best {
			f, best = &r.fields[i], sc
		}
	}
	if f == nil {
		x.rest = append(x.rest, id)
		return
	}
	for len(x.byPath) <= f.path {
		x.byPath = append(x.byPath, nil)
	}
	fi := x.byPath[f.path]
	if fi == nil {
		fi = &fieldIndex{exact: map[exactKey][]int32{}, prefix: map[string][]int32{}, suffix: map[string][]int32{}}
		x.byPath[f.path] = fi
		x.paths = append(x.paths, f.path)
	}
	if best == 1 {
		fi.present = append(fi.present, id)
		return
	}
	for _, m := range f.vals {
		switch k, ek := key(m); k {
		case exactK:
			fi.exact[ek] = appendOnce(fi.exact[ek], id)
		case prefixK:
			fi.prefix[ek.s] = appendOnce(fi.prefix[ek.s], id)
			if !slices.Contains(fi.prefixLens, len(ek.s)) {
				fi.prefixLens = append(fi.prefixLens, len(ek.s))
			}
		case suffixK:
			fi.suffix[ek.s] = appendOnce(fi.suffix[ek.s], id)
			if !slices.Contains(fi.suffixLens, len(ek.s)) {
				fi.suffixLens = append(fi.suffixLens, len(ek.s))
			}
		}
	}
}

func appendOnce(ids []int32, id int32) []int32 {
	if len(ids) > 0 && ids[len(ids)-1] == id {
		return ids
	}
	return append(ids, id)
}
