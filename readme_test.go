package main

import (
	"context"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/songbot-dev/songbot/ops"
)

// The README's configuration table, under the heading "## Configuration",
// has one row per variable of config, in the struct's order:
//
//	| `VAR` | meaning | default |
//
// The default cell is the struct's default tag in backticks (`5s`), or an
// em dash (—) alone when the field has no default tag. The meaning of a
// required variable says "Required". .env.example has a line VAR= for every
// variable: required ones (the secrets) uncommented and blank, the others
// commented out and showing their default, so a fresh copy changes nothing.

// readmeVar is one variable of config, read from its struct tags.
type readmeVar struct {
	name     string
	def      string
	required bool
	file     bool // NAME_FILE may hold the value instead
}

// readmeConfigVars lists config's variables in field order.
func readmeConfigVars(t *testing.T) []readmeVar {
	t.Helper()
	typ := reflect.TypeFor[config]()
	var vars []readmeVar
	for f := range typ.Fields() {
		name := f.Tag.Get("envconfig")
		if name == "" {
			t.Fatalf("config.%s has no envconfig tag; the README test cannot name its variable", f.Name)
		}
		vars = append(vars, readmeVar{
			name:     name,
			def:      f.Tag.Get("default"),
			required: f.Tag.Get("required") == "true",
			file:     f.Tag.Get("file") == "true",
		})
	}
	if len(vars) == 0 {
		t.Fatal("config has no fields")
	}
	return vars
}

func readmeVarNames(vars []readmeVar) []string {
	names := make([]string, len(vars))
	for i, v := range vars {
		names[i] = v.name
	}
	return names
}

// readmeRow is one row of the README's configuration table.
type readmeRow struct {
	line    int
	name    string
	meaning string
	def     string
}

var readmeRowName = regexp.MustCompile("^`([A-Z][A-Z0-9_]*)`$")

// readmeSplitRow splits a markdown table row on the pipes that \| does not
// escape, dropping the empty cells before the first and after the last pipe.
func readmeSplitRow(line string) []string {
	var cells []string
	var cell strings.Builder
	for i := 0; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line) && line[i+1] == '|':
			cell.WriteString(`\|`)
			i++
		case line[i] == '|':
			cells = append(cells, strings.TrimSpace(cell.String()))
			cell.Reset()
		default:
			cell.WriteByte(line[i])
		}
	}
	cells = append(cells, strings.TrimSpace(cell.String()))
	if len(cells) >= 2 {
		cells = cells[1 : len(cells)-1]
	}
	return cells
}

// readmeConfigTable returns the variable rows of README.md's configuration
// section.
func readmeConfigTable(t *testing.T) []readmeRow {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var rows []readmeRow
	in := false
	for i, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "## ") {
			in = strings.TrimSpace(line) == "## Configuration"
			continue
		}
		if !in || !strings.HasPrefix(strings.TrimSpace(line), "|") {
			continue
		}
		cells := readmeSplitRow(strings.TrimSpace(line))
		if len(cells) == 0 {
			continue
		}
		m := readmeRowName.FindStringSubmatch(cells[0])
		if m == nil {
			continue // header, separator, or a row of another table
		}
		if len(cells) != 3 {
			t.Errorf("README.md:%d: row of %s has %d cells; want 3: | `VAR` | meaning | default |", i+1, m[1], len(cells))
			continue
		}
		rows = append(rows, readmeRow{line: i + 1, name: m[1], meaning: cells[1], def: cells[2]})
	}
	if len(rows) == 0 {
		t.Fatal("README.md: found no rows like | `VAR` | meaning | default | under \"## Configuration\"")
	}
	return rows
}

func TestReadmeConfigTable(t *testing.T) {
	t.Parallel()
	vars := readmeConfigVars(t)
	rows := readmeConfigTable(t)

	byName := make(map[string]readmeRow)
	for _, r := range rows {
		if prev, ok := byName[r.name]; ok {
			t.Errorf("README.md:%d: %s is listed again (first at line %d)", r.line, r.name, prev.line)
			continue
		}
		byName[r.name] = r
	}
	inConfig := make(map[string]bool)
	for _, v := range vars {
		inConfig[v.name] = true
		if _, ok := byName[v.name]; !ok {
			t.Errorf("README.md: %s is in config.go but missing from the configuration table", v.name)
		}
	}
	for _, r := range rows {
		if !inConfig[r.name] {
			t.Errorf("README.md:%d: %s is in the configuration table but not in config.go", r.line, r.name)
		}
	}

	want := readmeVarNames(vars)
	var got []string
	for _, r := range rows {
		if inConfig[r.name] && !slices.Contains(got, r.name) {
			got = append(got, r.name)
		}
	}
	if len(got) == len(want) {
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("README.md: configuration table has %s where config.go has %s (position %d); keep config.go's order:\n%s",
					got[i], want[i], i+1, strings.Join(want, "\n"))
				break
			}
		}
	}

	for _, v := range vars {
		r, ok := byName[v.name]
		if !ok {
			continue
		}
		wantDef, why := "—", "config.go has no default tag"
		if v.def != "" {
			wantDef, why = "`"+v.def+"`", "config.go's default tag"
		}
		if r.def != wantDef {
			t.Errorf("README.md:%d: default of %s is %q; want %q (%s)", r.line, v.name, r.def, wantDef, why)
		}
		if v.required && !strings.Contains(strings.ToLower(r.meaning), "required") {
			t.Errorf("README.md:%d: %s is required but its meaning does not say \"Required\"", r.line, v.name)
		}
		if strings.TrimSpace(r.meaning) == "" {
			t.Errorf("README.md:%d: %s has no meaning", r.line, v.name)
		}
	}
}

var readmeEnvExampleLine = regexp.MustCompile(`^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$`)

func TestEnvExampleListsEveryVariable(t *testing.T) {
	t.Parallel()
	vars := readmeConfigVars(t)
	b, err := os.ReadFile(".env.example")
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		line      int
		commented bool
		value     string
	}
	seen := make(map[string]entry)
	inConfig := make(map[string]bool)
	for _, v := range vars {
		inConfig[v.name] = true
	}
	for i, line := range strings.Split(string(b), "\n") {
		m := readmeEnvExampleLine.FindStringSubmatch(strings.TrimSpace(line))
		if m == nil {
			continue
		}
		name := m[2]
		if !inConfig[name] {
			t.Errorf(".env.example:%d: %s is not a variable of config.go", i+1, name)
			continue
		}
		if prev, ok := seen[name]; ok {
			t.Errorf(".env.example:%d: %s is listed again (first at line %d)", i+1, name, prev.line)
			continue
		}
		seen[name] = entry{line: i + 1, commented: m[1] != "", value: m[3]}
	}
	for _, v := range vars {
		e, ok := seen[v.name]
		switch {
		case !ok && v.required:
			t.Errorf(".env.example: %s is missing; add a blank line %s=", v.name, v.name)
		case !ok:
			t.Errorf(".env.example: %s is missing; add # %s=%s", v.name, v.name, v.def)
		case v.required && (e.commented || e.value != ""):
			t.Errorf(".env.example:%d: %s is required: want an uncommented, blank line %s=", e.line, v.name, v.name)
		case !v.required && !e.commented:
			t.Errorf(".env.example:%d: %s is optional: comment it out (# %s=%s) so a fresh copy keeps the default", e.line, v.name, v.name, v.def)
		case !v.required && e.value != v.def:
			t.Errorf(".env.example:%d: %s shows %q; want its default %q from config.go", e.line, v.name, e.value, v.def)
		}
	}
}

// readmeMetricRow matches the metric cell of a row of the README's metrics
// table: | `songbot_name{label,label}` | type | meaning |.
var readmeMetricRow = regexp.MustCompile("^`(songbot_[a-z_]+)(?:\\{[a-z_,]+\\})?`$")

// readmeMetricsTable returns the meaning cell of each metric in README.md's
// "### Metrics" table, by metric name.
func readmeMetricsTable(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	in := false
	for line := range strings.Lines(string(b)) {
		if strings.HasPrefix(line, "#") {
			in = strings.TrimSpace(line) == "### Metrics"
			continue
		}
		cells := readmeSplitRow(strings.TrimSpace(line))
		if !in || len(cells) != 3 {
			continue
		}
		if m := readmeMetricRow.FindStringSubmatch(cells[0]); m != nil {
			rows[m[1]] = cells[2]
		}
	}
	if len(rows) == 0 {
		t.Fatal("README.md: found no rows like | `songbot_name{label}` | type | meaning | under \"### Metrics\"")
	}
	return rows
}

// zeroStore is a store whose gauges read 0, so they show in a scrape.
type zeroStore struct{}

func (zeroStore) Count(context.Context) (int, error)                      { return 0, nil }
func (zeroStore) Counts(context.Context) (running, queued int, err error) { return 0, 0, nil }

// TestReadmeListsEveryMetricAndLabelValue checks README.md's metrics table
// against the registry the bot serves on /metrics: a row for every
// songbot_ metric, and in it, in backticks, every value its series start
// with (the bot's outcome, refusal and fallback words, Whisul's endpoints
// and status classes).
func TestReadmeListsEveryMetricAndLabelValue(t *testing.T) {
	t.Parallel()
	reg := newRegistry()
	m := ops.NewMetrics(reg)
	m.CollectStore(zeroStore{})
	m.CollectPolls(func() (int, int) { return 0, 0 })
	registerShardMetrics(reg, func() (int, int) { return 0, 0 })
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	rows := readmeMetricsTable(t)
	checked := 0
	for _, f := range families {
		name := f.GetName()
		if !strings.HasPrefix(name, "songbot_") {
			continue
		}
		meaning, ok := rows[name]
		if !ok {
			t.Errorf("README.md's metrics table has no row for %s", name)
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "version" {
					continue // the build's, not a fixed word
				}
				checked++
				if !strings.Contains(meaning, "`"+l.GetValue()+"`") {
					t.Errorf("README.md: the row of %s does not list %s `%s`", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no label values to check")
	}
}
