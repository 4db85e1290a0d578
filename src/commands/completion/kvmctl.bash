# bash completion for kvmctl. Enable it with
#   kvmctl completion bash > /etc/bash_completion.d/kvmctl      (every user)
#   kvmctl completion bash > ~/.local/share/bash-completion/completions/kvmctl
# or add to ~/.bashrc:  source <(kvmctl completion bash)

# The line up to the cursor as words, the way the shell will pass them: quotes and
# backslashes removed, nothing expanded or run. The last word is the one completed.
__kvmctl_split() {
  local line=$1 word='' quote='' c i started=0
  __kvmctl_words=()
  for ((i = 0; i < ${#line}; i++)); do
    c=${line:i:1}
    if [[ -n $quote ]]; then
      if [[ $c == "$quote" ]]; then
        quote=''
      elif [[ $quote == '"' && $c == '\' ]]; then
        ((i++))
        word+=${line:i:1}
      else
        word+=$c
      fi
    elif [[ $c == "'" || $c == '"' ]]; then
      quote=$c
      started=1
    elif [[ $c == '\' ]]; then
      ((i++))
      word+=${line:i:1}
      started=1
    elif [[ $c == ' ' || $c == $'\t' ]]; then
      if ((started)); then
        __kvmctl_words+=("$word")
        word=''
        started=0
      fi
    else
      word+=$c
      started=1
    fi
  done
  __kvmctl_words+=("$word")
}

__kvmctl_complete() {
  local __kvmctl_words out directive cur shown keep value line quote=''
  __kvmctl_split "${COMP_LINE:0:COMP_POINT}"
  cur=${__kvmctl_words[${#__kvmctl_words[@]} - 1]}
  out=$("${__kvmctl_words[0]}" __complete "${__kvmctl_words[@]:1}" 2>/dev/null) || return 0
  directive=${out##*:}
  [[ $directive =~ ^[0-9]+$ ]] || return 0
  COMPREPLY=()
  # bash replaces only its own last word, which starts after the last = or : (COMP_WORDBREAKS).
  shown=${COMP_WORDS[COMP_CWORD]}
  if [[ $shown == [\"\']* ]]; then
    quote=${shown:0:1}
    keep=''
  elif [[ $cur == *"$shown" ]]; then
    keep=${cur%"$shown"}
  else
    keep=''
  fi
  while IFS= read -r line; do
    [[ $line == :* ]] && continue
    value=${line%%$'\t'*}
    [[ $value == "$cur"* ]] || continue
    value=${value#"$keep"}
    if [[ -n $quote ]]; then
      value=$quote$value
      ((directive & 2)) || value+=$quote
    else
      printf -v value '%q' "$value"
    fi
    COMPREPLY+=("$value")
  done <<<"$out"
  if ((directive & 2)); then compopt -o nospace 2>/dev/null; fi
  if ((${#COMPREPLY[@]} == 0)); then
    if ((directive & 16)); then
      compopt -o dirnames 2>/dev/null
    elif ((!(directive & 4))); then
      compopt -o default 2>/dev/null
    fi
  fi
  return 0
}

complete -F __kvmctl_complete kvmctl
