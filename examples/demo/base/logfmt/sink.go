package logfmt

// Emit hands a record to the sink.
func Emit(r *Record) int {
	return len(r.Msg)
}

// Info logs a message at level info.
func Info(msg string) int {
	rec := Record{Level: "info", Msg: msg}
	return Emit(&rec)
}
