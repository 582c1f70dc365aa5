# Sourced by scripts: where the Python tools are. The pyenv shims may not be on PATH in
# non-interactive shells (CI), so look there too.
pyenv_bin() {
	local root="${PYENV_ROOT:-$HOME/.pyenv}"
	for d in "$root/shims" "$root"/versions/*/bin; do
		[[ -x $d/$1 ]] && { echo "$d/$1"; return 0; }
	done
	return 1
}
moto_server_path() { command -v moto_server 2>/dev/null || pyenv_bin moto_server; }
