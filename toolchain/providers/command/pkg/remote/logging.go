package remote

import "github.com/pulumi/pulumi-go-provider/infer"

// Logging selects which of the command's streams are sent to the engine log.
// Its token is command:remote:Logging (the module comes from this package's name).
type Logging string

// The Logging values the SDK sends.
const (
	LogStdout          Logging = "stdout"
	LogStderr          Logging = "stderr"
	LogStdoutAndStderr Logging = "stdoutAndStderr"
	NoLogging          Logging = "none"
)

// Values lists the enum for the schema.
func (Logging) Values() []infer.EnumValue[Logging] {
	return []infer.EnumValue[Logging]{
		{Name: string(LogStdout), Value: LogStdout, Description: "Capture stdout in logs but not stderr"},
		{Name: string(LogStderr), Value: LogStderr, Description: "Capture stderr in logs but not stdout"},
		{Name: string(LogStdoutAndStderr), Value: LogStdoutAndStderr, Description: "Capture stdout and stderr in logs"},
		{Name: string(NoLogging), Value: NoLogging, Description: "Capture no logs"},
	}
}

// Stdout reports whether stdout is logged; unset means both streams are logged.
func (l *Logging) Stdout() bool { return l == nil || *l == LogStdout || *l == LogStdoutAndStderr }

// Stderr reports whether stderr is logged; unset means both streams are logged.
func (l *Logging) Stderr() bool { return l == nil || *l == LogStderr || *l == LogStdoutAndStderr }
