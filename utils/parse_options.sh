# Kaldi-style option parsing, sourced by run.sh and every step script after it sets its defaults:
#   --nj 4  or  --nj=4   sets nj=4 (the variable must already exist: unknown options are errors)
#   --foo-bar x          sets foo_bar=x
#   --config FILE        applies FILE's --key=value lines (# starts a comment) as if given here: the
#                        same config style as every Python command; later options override it
#   --help               prints the caller's $help_message
# Positional arguments are left in "$@".
# A step that hands the rest of its options to a Python command declares the array
#   passthrough_opts=()
# before sourcing this: then an option that names no variable (on the command line or in a --config
# file) is appended to it as --key=value, in order, for that command to check, instead of being an error.
_set_option() {  # _set_option --key value where
  local var
  var=$(echo "${1#--}" | tr '-' '_')
  if ! declare -p "$var" >/dev/null 2>&1 && [[ "$(declare -p passthrough_opts 2>/dev/null)" == "declare -a"* ]]; then
    passthrough_opts+=("$1=$2")
    return
  fi
  if ! declare -p "$var" >/dev/null 2>&1 || [ "$var" = config ]; then
    echo "$0: unknown option $1${3:+ ($3)}" >&2
    [ -n "${help_message:-}" ] && printf '%s\n' "$help_message" >&2
    exit 1
  fi
  printf -v "$var" '%s' "$2"
}
while [ $# -gt 0 ]; do
  case "$1" in
    --help|-h)
      printf '%s\n' "${help_message:-no help}" >&2; exit 0 ;;
    --*=*)
      _name=${1%%=*}; _value=${1#*=}; shift ;;
    --*)
      [ $# -ge 2 ] || { echo "$0: option $1 needs a value" >&2; exit 1; }
      _name=$1; _value=$2; shift 2 ;;
    *) break ;;
  esac
  if [ "$_name" = --config ]; then
    [ -f "$_value" ] || { echo "$0: config file $_value not found" >&2; exit 1; }
    _lineno=0
    while IFS= read -r _line || [ -n "$_line" ]; do
      _lineno=$((_lineno + 1))
      _line=$(echo "${_line%%#*}" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//')
      case "$_line" in
        "") ;;
        --*=*) _set_option "${_line%%=*}" "${_line#*=}" "$_value:$_lineno" ;;
        *) echo "$0: $_value:$_lineno: expected --key=value, got '$_line'" >&2; exit 1 ;;
      esac
    done < "$_value"
  else
    _set_option "$_name" "$_value"
  fi
done
unset _name _value _line _lineno
