package main

import (
	"unicode/utf8"
)

// terminalSafe removes what could drive a terminal from text that holds
// values of the input files (names, tags, policy text): ANSI escape
// sequences (CSI, OSC, DCS and the others of ECMA-48), C0 control
// characters but newline and tab, DEL, and C1 control characters. A byte
// that is not UTF-8 becomes U+FFFD: some terminals read 0x80-0x9F alone as
// C1 controls.
func terminalSafe(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			out = utf8.AppendRune(out, utf8.RuneError)
		case r == 0x1b: // ESC: the sequence it opens goes with it
			i += n + escapeLength(b[i+n:])
			continue
		case r == 0x9b: // C1 CSI
			i += n + csiLength(b[i+n:])
			continue
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // C1 DCS, SOS, OSC, PM, APC
			i += n + stringLength(b[i+n:])
			continue
		case r == '\n' || r == '\t':
			out = append(out, byte(r))
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		default:
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}

// escapeLength is the length of what follows an ESC in its sequence.
func escapeLength(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	switch b[0] {
	case '[':
		return 1 + csiLength(b[1:])
	case ']', 'P', 'X', '^', '_':
		return 1 + stringLength(b[1:])
	}
	return 1 // a two-character sequence (ESC 7, ESC c...)
}

// csiLength is the length of a control sequence's parameters,
// intermediates and final byte (0x40-0x7E).
func csiLength(b []byte) int {
	for i, c := range b {
		if c >= 0x40 && c <= 0x7e {
			return i + 1
		}
		if c < 0x20 || c > 0x7e {
			return i // not part of a sequence: it was cut short here
		}
	}
	return len(b)
}

// stringLength is the length of a control string up to its terminator:
// BEL, ESC \ or ST (U+009C). An unterminated one ends at the line's end,
// so that it cannot take the rest of the report with it.
func stringLength(b []byte) int {
	for i := 0; i < len(b); i++ {
		switch {
		case b[i] == '\n':
			return i
		case b[i] == 0x07:
			return i + 1
		case b[i] == 0x1b && i+1 < len(b) && b[i+1] == '\\':
			return i + 2
		case b[i] == 0xc2 && i+1 < len(b) && b[i+1] == 0x9c:
			return i + 2
		}
	}
	return len(b)
}
