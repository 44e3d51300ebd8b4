package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/songbot-dev/songbot/internal/secret"
)

// envVar is one variable of config, as its struct tags describe it.
type envVar struct {
	name, def, desc string
	required        bool
	file            bool // NAME_FILE may name a file holding the value
	field           int  // index in config
}

// configVars lists config's variables in field order, from the tags that
// also feed --help, so the list cannot drift from what is read.
func configVars() []envVar {
	typ := reflect.TypeFor[config]()
	vars := make([]envVar, 0, typ.NumField())
	for i := range typ.NumField() {
		f := typ.Field(i)
		vars = append(vars, envVar{
			name:     f.Tag.Get("env"),
			def:      f.Tag.Get("default"),
			desc:     f.Tag.Get("desc"),
			required: f.Tag.Get("required") == "true",
			file:     f.Tag.Get("file") == "true",
			field:    i,
		})
	}
	return vars
}

// configError lists every variable that must change before the program
// can run, each with what to do; the program exits with status 2.
type configError struct{ problems []string }

func (e configError) Error() string {
	if len(e.problems) == 1 {
		return "configuration: " + e.problems[0]
	}
	return fmt.Sprintf("configuration has %d problems:\n  %s", len(e.problems), strings.Join(e.problems, "\n  "))
}

// loadConfig reads the variables named in only, or all of them when only is
// empty, from the environment, and checks them. A command reads only what it uses,
// so `songbot song` needs no DISCORD_TOKEN. Every problem is reported at
// once, in config's order, rather than the first alone.
func loadConfig(only ...string) (config, error) {
	var c config
	val := reflect.ValueOf(&c).Elem()
	problems := map[string]string{}
	var order []string
	for _, v := range configVars() {
		if len(only) > 0 && !slices.Contains(only, v.name) {
			continue
		}
		order = append(order, v.name)
		raw, ok := os.LookupEnv(v.name)
		if v.file {
			fromFile, set, problem := readVarFile(v.name, raw)
			if problem != "" {
				problems[v.name] = problem
				continue
			}
			if set {
				raw, ok = fromFile, true
			}
		}
		if !ok {
			raw = v.def
		}
		if err := decodeVar(val.Field(v.field), raw); err != nil {
			problems[v.name] = fmt.Sprintf("%s is %q: %v", v.name, raw, err)
		}
	}
	for name, p := range c.validate() {
		if _, seen := problems[name]; !seen && slices.Contains(order, name) {
			problems[name] = p
		}
	}
	var list []string
	for _, name := range order {
		if p, ok := problems[name]; ok {
			list = append(list, p)
		}
	}
	if len(list) > 0 {
		return c, configError{list}
	}
	return c, nil
}

// readVarFile reads the value of name from the file NAME_FILE names, once,
// at start, with one trailing newline (as editors and `echo` leave it)
// removed. set is false when NAME_FILE is unset or empty. Setting both name
// and NAME_FILE is a problem: which one wins would be a guess. An empty
// variable does not count as set, so a blank DISCORD_TOKEN= line copied
// from .env.example does not clash with DISCORD_TOKEN_FILE.
func readVarFile(name, value string) (v string, set bool, problem string) {
	path := os.Getenv(name + "_FILE")
	if path == "" {
		return "", false, ""
	}
	if value != "" {
		return "", false, fmt.Sprintf("both %s and %s_FILE are set: unset one of them", name, name)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is said once, below
		}
		return "", false, fmt.Sprintf("%s_FILE is %q, which cannot be read (%v): point it at a file the bot's user can read, or unset it", name, path, err)
	}
	v = strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", false, fmt.Sprintf("%s_FILE is %q, which is empty: put the value in it", name, path)
	}
	return v, true, ""
}

// envHelp lists the variables for `songbot --help`, generated from the
// same tags loadConfig reads, so the list cannot drift from the program.
func envHelp() string {
	var b strings.Builder
	b.WriteString("Environment variables (README.md, Configuration, says more):\n")
	for _, v := range configVars() {
		head := "  " + v.name
		switch {
		case v.required:
			head += " (required)"
		case v.def != "":
			head += " (default " + v.def + ")"
		}
		fmt.Fprintf(&b, "%s\n        %s\n", head, v.desc)
		if v.file {
			fmt.Fprintf(&b, "        or %s_FILE: a file holding it (read once at start)\n", v.name)
		}
	}
	return b.String()
}

// decodeVar sets field from raw, for the kinds of value config holds. Its
// errors say what a valid value looks like; they never quote a secret.
func decodeVar(field reflect.Value, raw string) error {
	switch p := field.Addr().Interface().(type) {
	case *secret.Value:
		return p.Decode(raw)
	case *string:
		*p = raw
	case *time.Duration:
		d, err := time.ParseDuration(raw)
		if err != nil {
			return fmt.Errorf("set it to a duration such as 5s, 90s or 1h30m (0 switches it off)")
		}
		*p = d
	case *int:
		n, err := strconv.Atoi(raw)
		if err != nil {
			return fmt.Errorf("set it to a whole number (0 switches it off)")
		}
		*p = n
	case *[]string:
		*p = nil
		if strings.TrimSpace(raw) != "" {
			*p = strings.Split(raw, ",")
		}
	default:
		panic(fmt.Sprintf("config: no decoder for %s", field.Type()))
	}
	return nil
}
