package logfmt

// last keeps the most recent record for crash reports.
var last *Record

// Emit hands a record to the sink.
func Emit(r *Record) int {
	last = r
	return len(r.Msg)
}

// Info logs a message at level info.
func Info(msg string) int {
	rec := Record{Level: "info", Msg: msg}
	return Emit(&rec)
}
