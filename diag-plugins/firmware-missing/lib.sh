# kefu plugin firmware-missing: shared by the steps. SPDX-License-Identifier: MIT
# shellcheck shell=sh

kefu_root() {
	r="${KEFU_ROOT:-/}"
	echo "${r%/}"
}

# Prints the downloaded package (.deb in the apt cache) that ships firmware file $1.
package_in_cache() {
	r=$(kefu_root)
	for deb in "$r"/var/cache/apt/archives/*.deb; do
		[ -f "$deb" ] && [ ! -L "$deb" ] || continue # a link could lead out of the root
		if dpkg-deb -c "$deb" 2>/dev/null | awk -v f="$1" '
			{ sub(/^\.\//, "", $6); sub(/^usr\//, "", $6); sub(/\.(xz|zst)$/, "", $6) }
			$6 == "lib/firmware/" f { found = 1 } END { exit !found }'; then
			echo "$deb"
			return 0
		fi
	done
	return 1
}

# Prints the package the archive's Contents index (apt-file's data) names for file $1.
package_in_index() {
	r=$(kefu_root)
	for index in "$r"/var/lib/apt/lists/*Contents-*; do
		[ -f "$index" ] && [ ! -L "$index" ] || continue # a link could lead out of the root
		case "$index" in
		*.gz) reader="gzip -dc" ;;
		*.xz) reader="xz -dc" ;;
		*.zst) reader="zstd -dc" ;;
		*.lz4) reader="lz4 -dc" ;;
		*) reader="cat" ;;
		esac
		pkg=$($reader "$index" 2>/dev/null | awk -v f="$1" '
			$1 == "lib/firmware/" f || $1 == "usr/lib/firmware/" f {
				n = split($NF, owners, ","); sub(/.*\//, "", owners[1]); print owners[1]; exit }')
		if [ -n "$pkg" ]; then
			echo "$pkg"
			return 0
		fi
	done
	return 1
}

# The failed firmware files still missing, as "file<TAB>driver<TAB>device" lines.
missing_firmware() {
	/usr/bin/python3 ./firmware.py
}

json_text() {
	printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g'
}
