package cli

import (
	"bytes"
	"context"
)

// run executes berthctl with args and returns its output and the one-line
// error main would print.
func run(ctx context.Context, args ...string) (string, string) {
	cmd := NewRootCommand("berthctl")
	out := &bytes.Buffer{}
	cmd.SetOut(out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SetArgs(args)
	if err := cmd.ExecuteContext(ctx); err != nil {
		return out.String(), OneLine(err)
	}
	return out.String(), ""
}
