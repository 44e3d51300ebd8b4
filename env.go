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

	"github.com/kelseyhightower/envconfig"

	"github.com/songbot-dev/songbot/internal/secret"
)

// configError lists every variable that must change before the program
// can run, each with what to do; the program exits with status 2.
type configError struct{ problems []string }

func (e configError) Error() string {
	if len(e.problems) == 1 {
		return "configuration: " + e.problems[0]
	}
	return fmt.Sprintf("configuration has %d problems:\n  %s", len(e.problems), strings.Join(e.problems, "\n  "))
}

// lookupFunc reads one environment variable and reports whether it is set:
// os.LookupEnv in the program, a map in tests, so that they run in
// parallel. An empty HTTP_ADDR turns the server off while an unset one
// means the default, so "set" matters.
type lookupFunc func(name string) (string, bool)

// loadConfig reads the variables named in only, or all of them when only is
// empty, through lookup, and checks them. A command reads only what it
// uses, so `songbot song` needs no DISCORD_TOKEN. Every problem is reported
// at once, in config's order, rather than the first alone.
func loadConfig(lookup lookupFunc, only ...string) (config, error) {
	var c config
	val := reflect.ValueOf(&c).Elem()
	problems := map[string]string{}
	var order []string
	for f := range val.Type().Fields() {
		name := f.Tag.Get("envconfig")
		if len(only) > 0 && !slices.Contains(only, name) {
			continue
		}
		order = append(order, name)
		if p := decodeField(val.FieldByIndex(f.Index), f, lookup); p != "" {
			problems[name] = p
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

// decodeField sets dst, config's field f, from lookup and returns what is
// wrong with its variable, if anything. A NAME_FILE, where f allows one,
// comes first; otherwise the variable, or the default tag's value when it
// is unset, is decoded as envconfig would; an unset variable with neither
// is left zero, or is a problem when f is required. envconfig.Process
// itself reads only the process's environment.
func decodeField(dst reflect.Value, f reflect.StructField, lookup lookupFunc) string {
	name := f.Tag.Get("envconfig")
	if f.Tag.Get("file") == "true" {
		switch v, set, problem := readVarFile(name, lookup); {
		case problem != "":
			return problem
		case set:
			dst.Set(reflect.ValueOf(secret.New(v))) // file:"true" is only on secret.Value fields
			return ""
		}
	}
	raw, ok := lookup(name)
	if def := f.Tag.Get("default"); !ok && def != "" {
		raw, ok = def, true
	}
	switch {
	case !ok && f.Tag.Get("required") == "true":
		return notSet(name)
	case !ok:
		return ""
	}
	if err := decodeValue(dst, raw); err != nil {
		if f.Type == reflect.TypeFor[secret.Value]() { // never quote a secret
			return fmt.Sprintf("%s is not valid: %s", name, valueHint(f.Type))
		}
		return fmt.Sprintf("%s is %q: %s", name, raw, valueHint(f.Type))
	}
	return ""
}

// decodeValue sets dst from raw the way envconfig does for the kinds
// config uses: a Decode method, a duration, a string, a whole or real
// number, a bool, or a comma-separated list (empty when raw is blank).
func decodeValue(dst reflect.Value, raw string) error {
	if d, ok := dst.Addr().Interface().(envconfig.Decoder); ok {
		return d.Decode(raw)
	}
	if dst.Type() == reflect.TypeFor[time.Duration]() {
		d, err := time.ParseDuration(raw)
		dst.SetInt(int64(d))
		return err
	}
	switch dst.Kind() {
	case reflect.String:
		dst.SetString(raw)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(raw, 0, dst.Type().Bits())
		dst.SetInt(n)
		return err
	case reflect.Float32, reflect.Float64:
		x, err := strconv.ParseFloat(raw, dst.Type().Bits())
		dst.SetFloat(x)
		return err
	case reflect.Bool:
		b, err := strconv.ParseBool(raw)
		dst.SetBool(b)
		return err
	case reflect.Slice:
		var parts []string
		if strings.TrimSpace(raw) != "" {
			parts = strings.Split(raw, ",")
		}
		list := reflect.MakeSlice(dst.Type(), len(parts), len(parts))
		for i, part := range parts {
			if err := decodeValue(list.Index(i), part); err != nil {
				return err
			}
		}
		dst.Set(list)
	default:
		return fmt.Errorf("config cannot hold a %s", dst.Type())
	}
	return nil
}

// valueHint says what a valid value of type t looks like, for a variable
// envconfig could not decode.
func valueHint(t reflect.Type) string {
	switch {
	case t == reflect.TypeFor[time.Duration]():
		return "set it to a duration such as 5s, 90s or 1h30m (0 switches it off)"
	case t.Kind() == reflect.Int:
		return "set it to a whole number (0 switches it off)"
	}
	return "set it to a valid " + t.String()
}

// readVarFile reads the value of name from the file NAME_FILE names, once,
// at start, with one trailing newline (as editors and `echo` leave it)
// removed. set is false when NAME_FILE is unset or empty. Setting both name
// and NAME_FILE is a problem: which one wins would be a guess. An empty
// variable does not count as set, so a blank DISCORD_TOKEN= line copied
// from .env.example does not clash with DISCORD_TOKEN_FILE.
func readVarFile(name string, lookup lookupFunc) (v string, set bool, problem string) {
	path, _ := lookup(name + "_FILE")
	if path == "" {
		return "", false, ""
	}
	if v, _ := lookup(name); v != "" {
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

// envHelpFormat is the list of variables in `songbot --help`, for
// envconfig.Usagef, which fills it from config's tags: the list cannot
// drift from what loadConfig reads.
const envHelpFormat = `Environment variables (README.md, Configuration, says more):
{{range .}}  {{usage_key .}}{{if usage_required .}} (required){{else if usage_default .}} (default {{usage_default .}}){{end}}
        {{usage_description .}}
{{if eq (.Tags.Get "file") "true"}}        or {{usage_key .}}_FILE: a file holding it (read once at start)
{{end}}{{end}}`

// envHelp lists the variables for `songbot --help`.
func envHelp() string {
	var b strings.Builder
	if err := envconfig.Usagef("", &config{}, &b, envHelpFormat); err != nil {
		panic(err) // the template and config are fixed; a test runs this
	}
	return b.String()
}
