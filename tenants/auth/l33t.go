package auth

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"

	"github.com/ccojocar/zxcvbn-go/adjacency"
	"github.com/ccojocar/zxcvbn-go/entropy"
	"github.com/ccojocar/zxcvbn-go/frequency"
	"github.com/ccojocar/zxcvbn-go/match"
	"github.com/ccojocar/zxcvbn-go/matching"
	"github.com/ccojocar/zxcvbn-go/scoring"
)

// zxcvbnStrength is zxcvbn.PasswordStrength with the port's l33t matcher
// replaced by l33tMatches, which finds the same matches without its cost.
//
// The port's matcher (l33tMatch in matching/leet.go) builds every
// substitution of the l33t symbols in the password (one per choice of symbol
// for each letter: up to thousands when a password holds most of the 17
// symbols) and looks every substring of every one of them up in each of its
// five dictionaries: 99% of the 0.15 s a 48-character password of l33t
// symbols took (BenchmarkCheckStrengthWorstCase, before this). The matches
// it adds are plain dictionary matches of the substituted text: Match is a
// value, so its loop that would add l33t entropy and rename the dictionary
// changes copies only.
func zxcvbnStrength(password string, userInputs []string) scoring.MinEntropyMatch {
	matches := matching.Omnimatch(password, userInputs, matching.FilterL33tMatcher)
	matches = append(matches, l33tMatches(password)...)
	sort.Sort(match.Matches(matches))
	return scoring.MinimumEntropyMatchSequence(password, matches)
}

// l33tMatches returns the distinct matches the port's l33tMatch returns
// for password (which repeats a match once per substitution giving it; the
// repeats change no score). Rather than spelling out each substitution and
// looking up each of its substrings, it walks from each start position
// while the text so far begins some dictionary word, splitting the
// substitutions by what they make of each l33t symbol met: a substring is
// looked up once however many substitutions share it.
func l33tMatches(password string) []match.Match {
	subs, symbols := l33tSubstitutions(password)
	if len(subs) == 0 {
		return nil
	}
	t := l33tDictionaries()
	pw := []rune(password)
	symAt := make([]int, len(pw)) // index into symbols, or -1
	for p, r := range pw {
		symAt[p] = strings.IndexRune(symbols, r)
		if r >= 0x80 {
			symAt[p] = -1
		}
	}
	all := make([]int, len(subs))
	for k := range all {
		all[k] = k
	}
	var out []match.Match
	var walk func(i, j int, group []int, lower, token []rune)
	walk = func(i, j int, group []int, lower, token []rune) {
		if j == len(pw) {
			return
		}
		for _, b := range splitBy(group, pw[j], symAt[j], subs) {
			lower, token := append(lower, unicode.ToLower(b.r)), append(token, b.r)
			word := string(lower)
			w := sort.SearchStrings(t.words, word)
			if w == len(t.words) || !strings.HasPrefix(t.words[w], word) {
				continue // no dictionary word starts so
			}
			if t.words[w] == word {
				for d, rank := range t.ranks[w] {
					if rank == 0 {
						continue
					}
					m := match.Match{Pattern: "dictionary", DictionaryName: t.names[d], I: i, J: j, Token: string(token)}
					m.Entropy = entropy.DictionaryEntropy(m, float64(rank))
					out = append(out, m)
				}
			}
			walk(i, j+1, b.group, lower, token)
		}
	}
	lower, token := make([]rune, 0, len(pw)), make([]rune, 0, len(pw))
	for i := range pw {
		walk(i, i, all, lower, token)
	}
	return out
}

// bucket is the substitutions that make one rune of a position.
type bucket struct {
	r     rune
	group []int
}

// splitBy groups the substitutions in group by the rune each makes of r,
// the password's rune at a position, whose index in the symbols is sym (-1
// for none): the letter a substitution puts for the symbol, or r itself.
func splitBy(group []int, r rune, sym int, subs [][]byte) []bucket {
	if sym < 0 {
		return []bucket{{r, group}}
	}
	var bs []bucket
	for _, k := range group {
		got := r
		if l := subs[k][sym]; l != 0 {
			got = rune(l)
		}
		i := slices.IndexFunc(bs, func(b bucket) bool { return b.r == got })
		if i < 0 {
			bs = append(bs, bucket{r: got})
			i = len(bs) - 1
		}
		bs[i].group = append(bs[i].group, k)
	}
	return bs
}

// l33tSubstitutions returns the distinct substitutions the port's
// getPermutations makes of password, each as the letter it puts for each
// of symbols (the l33t symbols present), 0 to leave the symbol as it is.
//
// The port keeps, for each letter of its table, the symbols of it present
// in password. A symbol two letters share (1 and | for i and l, 7 for l and
// t) goes to one of them, in every way, and a letter left without symbols
// drops out; then each remaining letter takes one of its symbols, in every
// combination, and each taken symbol becomes its letter everywhere.
func l33tSubstitutions(password string) (subs [][]byte, symbols string) {
	graph := adjacency.GraphMap["l33t"].Graph
	letters := make([]string, 0, len(graph))
	for l := range graph {
		letters = append(letters, l)
	}
	sort.Strings(letters)
	type entry struct {
		letter byte
		syms   []string
	}
	var table []entry
	owners := map[string][]byte{} // symbol -> letters having it
	var syms strings.Builder
	for _, l := range letters {
		e := entry{letter: l[0]}
		for _, s := range graph[l] {
			if strings.Contains(password, s) {
				e.syms = append(e.syms, s)
				if len(owners[s]) == 0 {
					syms.WriteString(s)
				}
				owners[s] = append(owners[s], e.letter)
			}
		}
		if len(e.syms) > 0 {
			table = append(table, e)
		}
	}
	if len(table) == 0 {
		return nil, ""
	}
	symbols = syms.String()
	var conflicts []string
	for s, o := range owners {
		if len(o) > 1 {
			conflicts = append(conflicts, s)
		}
	}
	sort.Strings(conflicts)

	seen := map[string]bool{}
	owner := map[string]byte{}
	var resolve func(c int)
	resolve = func(c int) {
		if c < len(conflicts) {
			for _, l := range owners[conflicts[c]] {
				owner[conflicts[c]] = l
				resolve(c + 1)
			}
			return
		}
		// Each letter's symbols once the shared ones have their owners.
		var choices [][]string
		var of []byte
		for _, e := range table {
			var mine []string
			for _, s := range e.syms {
				if o, shared := owner[s]; !shared || o == e.letter {
					mine = append(mine, s)
				}
			}
			if len(mine) > 0 {
				choices, of = append(choices, mine), append(of, e.letter)
			}
		}
		sub := make([]byte, len(symbols))
		var choose func(k int)
		choose = func(k int) {
			if k == len(choices) {
				if !seen[string(sub)] {
					seen[string(sub)] = true
					subs = append(subs, slices.Clone(sub))
				}
				return
			}
			for _, s := range choices[k] {
				i := strings.Index(symbols, s)
				sub[i] = of[k]
				choose(k + 1)
				sub[i] = 0
			}
		}
		choose(0)
	}
	resolve(0)
	return subs, symbols
}

// l33tTables are the port's five frequency lists, ranked as its dictionary
// matchers rank them (the last of equal lower-case words counts), in one
// sorted list of words so that one search says whether a text is a word of
// each list and whether any word starts with it.
type l33tTables struct {
	names []string   // the lists' names
	words []string   // lower case, sorted, distinct
	ranks [][5]int32 // per word, its rank in each list, 0 for none
}

// l33tDictionaries builds the tables once, from the port's own lists; they
// are never changed afterwards.
var l33tDictionaries = sync.OnceValue(func() *l33tTables {
	t := &l33tTables{}
	for name := range frequency.Lists {
		t.names = append(t.names, name)
	}
	sort.Strings(t.names)
	if len(t.names) > len([5]int32{}) {
		panic("zxcvbn-go has more frequency lists than l33tTables holds")
	}
	ranks := map[string]*[5]int32{}
	for d, name := range t.names {
		for i, w := range frequency.Lists[name].List {
			w = strings.ToLower(w)
			r := ranks[w]
			if r == nil {
				r = new([5]int32)
				ranks[w] = r
				t.words = append(t.words, w)
			}
			r[d] = int32(i + 1)
		}
	}
	sort.Strings(t.words)
	t.ranks = make([][5]int32, len(t.words))
	for i, w := range t.words {
		t.ranks[i] = *ranks[w]
	}
	return t
})
