#compdef kvmctl
# zsh completion for kvmctl. Enable it with
#   kvmctl completion zsh > "${fpath[1]}/_kvmctl"     (then start a new shell)
# or add to ~/.zshrc, after compinit:  source <(kvmctl completion zsh)

_kvmctl() {
  local out directive line
  local -a lines values
  # (Q): the words as the command will get them, the line's own quoting removed.
  out=$(${(Q)words[1]} __complete "${(@Q)words[2,CURRENT]}" 2>/dev/null) || return 1
  lines=("${(@f)out}")
  directive=${lines[-1]#:}
  [[ $directive == <-> ]] || return 1
  for line in "${(@)lines[1,-2]}"; do
    values+=("${line%%$'\t'*}")
  done
  if (( ${#values} )); then
    if (( directive & 2 )); then
      compadd -S '' -- "${values[@]}"
    else
      compadd -- "${values[@]}"
    fi
  elif (( directive & 16 )); then
    _files -/
  elif (( !(directive & 4) )); then
    _files
  fi
}

# Loaded from $fpath the file is the body of _kvmctl: run it; sourced, register it.
if [[ $funcstack[1] == _kvmctl ]]; then
  _kvmctl "$@"
else
  compdef _kvmctl kvmctl
fi
