package cli

import (
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/olekukonko/tablewriter/pkg/twwidth"
	"golang.org/x/term"
)

// FormatWide is -o wide: the table of -o table, whole (never fitted to the terminal's width).
const FormatWide Format = "wide"

// IsTable reports whether f is a table format (table or wide), as opposed to data (json, yaml).
func (f Format) IsTable() bool { return f == FormatTable || f == FormatWide }

// Width is the number of columns text written to w must fit: $COLUMNS when it is set (to a
// positive number), else the width of the terminal w writes to, else 0 (no limit: piped output
// and files stay whole). It is 0 for every format but table: -o wide is never fitted.
func Width(w io.Writer, f Format) int {
	if f != FormatTable {
		return 0
	}
	return TermWidth(w)
}

// TermWidth is the width of text written to w (help, tables): $COLUMNS when set, else the
// terminal's, else 0 (no limit).
func TermWidth(w io.Writer) int {
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		return c
	}
	f, ok := w.(interface{ Fd() uintptr })
	if !ok || f.Fd() == ^uintptr(0) || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	c, _, err := term.GetSize(int(f.Fd()))
	if err != nil || c <= 0 {
		return 0
	}
	return c
}

// Fit returns a writer that wraps the lines written through it to the width of w for format f
// (Width), and the function to call when done: it writes the last line if it had no newline.
// Tables made on the returned writer (NewTable) fit the width too, their long cells wrapped at
// word boundaries. With no width (piped output, -o wide, json), w itself is returned.
func Fit(w io.Writer, f Format) (io.Writer, func()) { return FitFor(w, w, f) }

// FitFor is Fit for text written to w (a buffer) and shown later on shownOn: the width, and the
// secrets hidden before lines are wrapped, are shownOn's.
func FitFor(w, shownOn io.Writer, f Format) (io.Writer, func()) {
	if fw, ok := w.(*fitted); ok {
		return fw, func() {}
	}
	width := Width(shownOn, f)
	if width <= 0 {
		return w, func() {}
	}
	fw := &fitted{w: w, width: width, rewrite: func(s string) string { return s }}
	if r, ok := shownOn.(rewriter); ok {
		fw.rewrite = r.Rewrite
	}
	return fw, func() { _ = fw.flush() }
}

// rewriter is a writer that changes text on its way out (the output streams of both plugins:
// redact.Writer hides secrets, the vocabulary fills in flag and command names). Fit rewrites
// text before it wraps it: a secret cut in two by a line break would be missed, and a name
// filled in later would make a wrapped line longer.
type rewriter interface{ Rewrite(text string) string }

// fitted wraps whole lines to width; a partial line waits for its newline (or flush).
type fitted struct {
	w       io.Writer
	width   int
	line    []byte
	rewrite func(string) string
}

func (f *fitted) Write(p []byte) (int, error) {
	f.line = append(f.line, p...)
	i := strings.LastIndexByte(string(f.line), '\n')
	if i < 0 {
		return len(p), nil
	}
	done := f.rewrite(string(f.line[:i]))
	f.line = append(f.line[:0], f.line[i+1:]...)
	lines := strings.Split(done, "\n")
	for k, l := range lines {
		lines[k] = wrapLine(l, f.width, 2, modeText)
	}
	if _, err := io.WriteString(f.w, strings.Join(lines, "\n")+"\n"); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (f *fitted) flush() error {
	if len(f.line) == 0 {
		return nil
	}
	s := wrapLine(f.rewrite(string(f.line)), f.width, 2, modeText)
	f.line = f.line[:0]
	_, err := io.WriteString(f.w, s)
	return err
}

// Fd is the descriptor of the writer underneath (colour and terminal checks see through Fit).
func (f *fitted) Fd() uintptr {
	if d, ok := f.w.(interface{ Fd() uintptr }); ok {
		return d.Fd()
	}
	return ^uintptr(0)
}

// wrapText wraps every line of s longer than width at word boundaries (a word longer than the
// line breaks after a hyphen or slash, else anywhere). A continuation line is indented like
// the text it continues: under the second column of a line laid out in columns (two spaces or
// more after its first words, as flags and commands in help), after the mark of a list item
// ("- "), else extra spaces deeper than the line. A URL is never broken (the terminal shows it
// whole, over the width, so that it can be opened). A width of 0 or less changes nothing.
func wrapText(s string, width, extra int) string { return wrapLines(s, width, extra, modeText) }

func wrapLines(s string, width, extra int, mode wrapMode) string {
	if width <= 0 {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = wrapLine(l, width, extra, mode)
	}
	return strings.Join(lines, "\n")
}

// wrapCommand wraps a shell command line to width with a backslash at the end of each line but
// the last, so that it still runs when pasted; it breaks before an option where it can.
func wrapCommand(line string, width int) string {
	return wrapLine(line, width, 2, modeCommand)
}

// wrapMode is how wrapLine treats a word longer than a line.
type wrapMode int

const (
	modeText    wrapMode = iota // break it, unless it is a URL
	modeBreak                   // break it (table cells and help have a width to keep)
	modeCommand                 // never break it; end broken lines with a backslash
)

// column is the start of a line laid out in columns: its first words (single spaces), then two
// spaces or more.
var column = regexp.MustCompile(`^\s*\S+(?: \S+)*\s{2,}`)

// displayWidth is the number of terminal columns s takes (colour sequences take none).
func displayWidth(s string) int { return twwidth.Width(s) }

// hangOf is the indent of the continuation lines of line.
func hangOf(line string, width, extra int) int {
	indent := len(line) - len(strings.TrimLeft(line, " "))
	if m := column.FindString(line); m != "" && displayWidth(m) <= width*2/3 && len(strings.TrimSpace(line)) > len(strings.TrimSpace(m)) {
		return displayWidth(m)
	}
	rest := line[indent:]
	if strings.HasPrefix(rest, "- ") || strings.HasPrefix(rest, "* ") || strings.HasPrefix(rest, "• ") {
		return indent + 2
	}
	if indent+extra > width/2 {
		return indent
	}
	return indent + extra
}

// token is a word and the spaces before it.
type token struct{ space, word string }

func tokens(line string) []token {
	var out []token
	for line != "" {
		w := strings.TrimLeft(line, " ")
		sp := line[:len(line)-len(w)]
		end := strings.IndexByte(w, ' ')
		if end < 0 {
			end = len(w)
		}
		out = append(out, token{space: sp, word: w[:end]})
		line = w[end:]
	}
	return out
}

// wrapLine wraps one line (no newline) to width. A command keeps its words whole (an option
// with its value) and ends each broken line with a backslash.
func wrapLine(line string, width, extra int, mode wrapMode) string {
	command := mode == modeCommand
	if width <= 0 || displayWidth(line) <= width {
		return line
	}
	hang := hangOf(line, width, extra)
	toks := tokens(line)
	reserve := 0
	if command {
		hang = len(line) - len(strings.TrimLeft(line, " ")) + 2
		toks = pairOptions(toks)
		reserve = 2
	}
	var out []string
	cur, curW, empty := "", 0, true
	newLine := func() {
		if command {
			cur += " \\"
		}
		out = append(out, cur)
		cur, curW, empty = strings.Repeat(" ", hang), hang, true
	}
	for i, t := range toks {
		sp := t.space
		if empty && len(out) > 0 {
			sp = ""
		}
		limit := width - reserve
		if i == len(toks)-1 {
			limit = width
		}
		ww := displayWidth(t.word)
		whole := command || mode == modeText && strings.Contains(t.word, "://")
		if curW+len(sp)+ww <= limit || (whole && empty) {
			cur += sp + t.word
			curW += len(sp) + ww
			empty = false
			continue
		}
		if !empty {
			newLine()
			if whole && !command && curW+ww > limit {
				// A URL that does not fit under the column starts where the line does.
				indent := len(line) - len(strings.TrimLeft(line, " "))
				cur, curW = strings.Repeat(" ", indent), indent
			}
			if whole || curW+ww <= limit {
				cur += t.word
				curW += ww
				empty = false
				continue
			}
			sp = ""
		}
		// The word alone is longer than a line: break it.
		cur += sp
		curW += len(sp)
		for k, p := range breakWord(t.word, width-curW, width-hang) {
			if k > 0 {
				newLine()
			}
			cur += p
			curW += displayWidth(p)
		}
		empty = false
	}
	return strings.Join(append(out, cur), "\n")
}

// pairOptions joins an option and its value ("-f values.yaml") into one word.
func pairOptions(toks []token) []token {
	var out []token
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if strings.HasPrefix(t.word, "-") && !strings.Contains(t.word, "=") && i+1 < len(toks) &&
			!strings.HasPrefix(toks[i+1].word, "-") && !strings.HasPrefix(toks[i+1].word, "#") && !strings.HasPrefix(toks[i+1].word, "|") {
			t.word += toks[i+1].space + toks[i+1].word
			i++
		}
		out = append(out, t)
	}
	return out
}

// breakWord cuts a word into pieces: the first at most first columns, the others at most rest,
// after a hyphen, slash or underscore where it can, anywhere else.
func breakWord(w string, first, rest int) []string {
	if rest < 1 {
		rest = 1
	}
	if first < 1 {
		first = rest
	}
	var out []string
	limit := first
	for displayWidth(w) > limit {
		runes := []rune(w)
		cut, width := 0, 0
		soft := 0
		for i, r := range runes {
			rw := displayWidth(string(r))
			if width+rw > limit {
				break
			}
			width += rw
			cut = i + 1
			if (r == '-' || r == '/' || r == '_') && i+1 < len(runes) {
				soft = i + 1
			}
		}
		if soft > 0 {
			cut = soft
		}
		if cut == 0 {
			cut = 1
		}
		out = append(out, string(runes[:cut]))
		w = string(runes[cut:])
		limit = rest
	}
	return append(out, w)
}

// minWidth is the narrowest a cell can be wrapped to at a level: 1 at word boundaries, 2 also
// after hyphens and slashes in a word, 3 anywhere (a few columns).
func minWidth(cell string, level int) int {
	m := 0
	for _, line := range strings.Split(cell, "\n") {
		indent := len(line) - len(strings.TrimLeft(line, " "))
		hang := indent
		rest := line[indent:]
		if strings.HasPrefix(rest, "- ") {
			hang += 2
		}
		for _, t := range tokens(line) {
			var w int
			switch level {
			case 1:
				w = displayWidth(t.word)
			case 2:
				for _, p := range softPieces(t.word) {
					w = max(w, displayWidth(p))
				}
			default:
				w = min(displayWidth(t.word), 4)
			}
			if w > 0 {
				m = max(m, hang+w)
			}
		}
	}
	return m
}

// softPieces splits a word after each hyphen, slash or underscore.
func softPieces(w string) []string {
	var out []string
	start := 0
	for i, r := range w {
		if (r == '-' || r == '/' || r == '_') && i+1 < len(w) {
			out = append(out, w[start:i+1])
			start = i + 1
		}
	}
	return append(out, w[start:])
}

// maxLineWidth is the width of the widest line of a cell.
func maxLineWidth(cell string) int {
	m := 0
	for _, l := range strings.Split(cell, "\n") {
		m = max(m, displayWidth(l))
	}
	return m
}

// fitColumns chooses the width of each column so that the rows (the header first) fit width,
// with sep columns between two columns. Each column is at least as wide as its longest word;
// when those do not fit, the columns with the most text may break words after hyphens, then
// anywhere (the least that fits). The rest of the width is shared in proportion to what each column lacks. The first column, which names the row, is only ever
// wrapped at word boundaries. Coloured cells (status marks) are never wrapped. It returns nil
// when the rows fit as they are.
func fitColumns(rows [][]string, width, sep int) []int {
	n := 0
	for _, r := range rows {
		n = max(n, len(r))
	}
	if n == 0 {
		return nil
	}
	natural := make([]int, n)
	fixed := make([]int, n) // the width of coloured cells, which are not wrapped
	for _, r := range rows {
		for i, c := range r {
			natural[i] = max(natural[i], maxLineWidth(c))
			if colored.MatchString(c) {
				fixed[i] = max(fixed[i], maxLineWidth(c))
			}
		}
	}
	budget := width - sep*(n-1)
	if sum(natural) <= budget {
		return nil
	}
	floorAt := func(i, level int) int {
		f := fixed[i]
		for _, r := range rows {
			if i < len(r) && !colored.MatchString(r[i]) {
				f = max(f, minWidth(r[i], level))
			}
		}
		return min(f, natural[i])
	}
	level := make([]int, n)
	floor := make([]int, n)
	for i := range floor {
		level[i], floor[i] = 1, floorAt(i, 1)
	}
	// Lower the floors a level at a time, until they fit: first of the column with the most text
	// (a message before an identifier).
	for lv := 1; lv < 3 && sum(floor) > budget; lv++ {
		for sum(floor) > budget {
			best := -1
			for i := 1; i < n; i++ {
				if level[i] == lv && (best < 0 || natural[i] > natural[best]) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			// Only as far as needed: what the other columns leave, not below the next level.
			level[best], floor[best] = lv+1, max(floorAt(best, lv+1), floor[best]-(sum(floor)-budget))
		}
	}
	// What is left above the floors goes to the columns in proportion to what they lack, so the
	// long texts (messages, notes) get most of it.
	widths := append([]int(nil), floor...)
	left := budget - sum(floor)
	lack := 0
	for i := range widths {
		lack += natural[i] - floor[i]
	}
	if left <= 0 || lack == 0 {
		return widths
	}
	given := 0
	for i := range widths {
		add := (natural[i] - floor[i]) * left / lack
		widths[i] += add
		given += add
	}
	for ; given < left; given++ {
		best := -1
		for i := range widths {
			if widths[i] < natural[i] && (best < 0 || natural[i]-widths[i] > natural[best]-widths[best]) {
				best = i
			}
		}
		if best < 0 {
			break
		}
		widths[best]++
	}
	return widths
}

func sum(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}
