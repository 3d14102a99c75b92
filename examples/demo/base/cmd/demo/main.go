package main

import (
	"os"

	"example.com/demo/logfmt"
)

func main() {
	r := logfmt.Clone(logfmt.Record{Level: "info", Msg: "started"})
	r.Fields = append(r.Fields, *logfmt.With("pid", "1"))
	os.Stdout.WriteString(logfmt.Format(r) + "\n")
	logfmt.Info("done")
}
