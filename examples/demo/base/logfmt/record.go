// Package logfmt formats structured log records.
package logfmt

// Field is one key=value pair of a record.
type Field struct {
	Key   string
	Value string
}

// Record is one log event.
type Record struct {
	Level  string
	Msg    string
	Fields []Field
}

// With returns a field; it allocates because the caller keeps the pointer.
func With(key, value string) *Field {
	return &Field{Key: key, Value: value}
}

// Clone copies a record onto the heap.
func Clone(r Record) *Record {
	c := r
	return &c
}

// Format renders a record as one logfmt line.
func Format(r *Record) string {
	line := make([]byte, 0, 64)
	line = append(line, "level="...)
	line = append(line, r.Level...)
	line = append(line, " msg="...)
	line = append(line, r.Msg...)
	for _, f := range r.Fields {
		line = append(line, ' ')
		line = append(line, f.Key...)
		line = append(line, '=')
		line = append(line, f.Value...)
	}
	return string(line)
}
