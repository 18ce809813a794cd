package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// command is one subcommand's flag set with the help every subcommand
// prints the same way: usage line, description, flags with placeholders.
// --help (or -h) prints it to stdout and exits 0; a flag error prints the
// error and a hint to stderr and exits 2.
type command struct {
	name, usage, about string
	fs                 *flag.FlagSet
	stdout, stderr     io.Writer
}

// newCommand makes the flag set of "eventplane <name>". usage is the
// synopsis after "eventplane " ("send [flags] [FILE|-]"); about is the
// description. Flag usages name their placeholder in backquotes.
func newCommand(name, usage, about string, stdout, stderr io.Writer) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed by parse, help by help
	fs.Usage = func() {}
	return &command{name: name, usage: usage, about: about, fs: fs, stdout: stdout, stderr: stderr}
}

// parse parses args; ok false means the command is done with exit code.
func (c *command) parse(args []string) (code int, ok bool) {
	err := c.fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		c.help(c.stdout)
		return exitOK, false
	}
	if err != nil {
		return c.fail("%v (see 'eventplane %s --help')", err, c.name), false
	}
	return 0, true
}

// fail prints "eventplane <name>: <message>" on its own line and returns
// the usage exit code.
func (c *command) fail(format string, args ...any) int {
	fmt.Fprintf(c.stderr, "eventplane %s: %s\n", c.name, fmt.Sprintf(format, args...))
	return exitBad
}

func (c *command) help(w io.Writer) {
	fmt.Fprintf(w, "Usage: eventplane %s\n\n%s\n", c.usage, strings.TrimSpace(c.about))
	var rows [][2]string
	width := 0
	c.fs.VisitAll(func(f *flag.Flag) {
		placeholder, text := flag.UnquoteUsage(f)
		name := "--" + f.Name
		if len(f.Name) == 1 {
			name = "-" + f.Name
		}
		if placeholder != "" && !isBool(f) {
			name += " " + placeholder
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			text += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		rows = append(rows, [2]string{name, text})
		width = max(width, len(name))
	})
	if len(rows) > 0 {
		fmt.Fprintln(w, "\nFlags:")
		for _, r := range rows {
			fmt.Fprintf(w, "  %-*s  %s\n", width, r[0], r[1])
		}
	}
	fmt.Fprintln(w, "  --help"+strings.Repeat(" ", max(width-6, 0))+"  show this help")
}

func isBool(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
