# Kaldi-style option parsing, sourced by run.sh and every step script after it sets its defaults:
#   --nj 4  or  --nj=4   sets nj=4 (the variable must already exist: unknown options are errors)
#   --foo-bar x          sets foo_bar=x
#   --config FILE        sources FILE (lines name=value, shell syntax) before the remaining options
#   --help               prints the caller's $help_message
# Positional arguments are left in "$@".
while true; do
  [ -z "${1:-}" ] && break
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
  _var=$(echo "${_name#--}" | tr '-' '_')
  if [ "$_var" = config ]; then
    [ -f "$_value" ] || { echo "$0: config file $_value not found" >&2; exit 1; }
    . "$_value"
    continue
  fi
  if ! declare -p "$_var" >/dev/null 2>&1; then
    echo "$0: unknown option $_name" >&2
    [ -n "${help_message:-}" ] && printf '%s\n' "$help_message" >&2
    exit 1
  fi
  printf -v "$_var" '%s' "$_value"
done
unset _name _value _var
