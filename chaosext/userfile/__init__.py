"""One way to read a file a user writes (topology, game day, var file, ...).

    from chaosext import userfile

    class Drill(userfile.Strict):
        experiment: str
        replicas: int = 1

    drill = userfile.load("drill.yaml", Drill)   # -> a Drill

- YAML 1.2 semantics (JSON too): `on`, `yes`, `off` stay strings, `1:30` and
  `2024-01-02` stay strings, only `true`/`false` are booleans; duplicate keys
  are problems.
- The schema is a pydantic model deriving from `userfile.Strict` (exact types,
  unknown keys refused with a "did you mean"); a validator raises
  `userfile.fail("message")` to report its own message; a model's optional
  `cross_check()` yields `(path, message)` for problems spanning fields.
- Every problem is collected into one `UserFileError`; `str(error)` is one line
  per problem, `file:line: field: message` (`error.problems` holds them as
  `Problem` objects).

`read(path).yaml11` lists, as problems, the plain scalars a YAML 1.1 reader takes
otherwise (`on`, `yes`, `1:30`, `0777`, dates): not errors here, but worth
reporting for files that YAML 1.1 tools read too (`chaos run --var-file` loads
var files with PyYAML's safe_load).

`context=` is handed to the validators (`info.context`), e.g. the file's folder.
`read(path)` only parses (a `Document` with `data` and the line of each path);
`validate(document, model)` validates one already read.
"""

from chaosext.userfile.problems import Loc, Problem, UserFileError, format_path
from chaosext.userfile.schema import Strict, fail, kind, load, validate
from chaosext.userfile.yaml12 import Document, parse, read

__all__ = [
    "Document",
    "Loc",
    "Problem",
    "Strict",
    "UserFileError",
    "fail",
    "format_path",
    "kind",
    "load",
    "parse",
    "read",
    "validate",
]
