# kefu plugin device-permission: shared by the steps. SPDX-License-Identifier: MIT
# shellcheck shell=sh

RULES=etc/udev/rules.d/70-kefu-usb-access.rules

kefu_root() {
	r="${KEFU_ROOT:-/}"
	echo "${r%/}"
}

# Whether a udev rule gives users access to vendor $1 product $2 (uaccess or an open MODE).
rule_gives_access() {
	r=$(kefu_root)
	cat "$r"/etc/udev/rules.d/*.rules "$r"/usr/lib/udev/rules.d/*.rules "$r"/lib/udev/rules.d/*.rules 2>/dev/null |
		awk -v v="idVendor}==\"$1\"" -v p="idProduct}==\"$2\"" '
			/^[ \t]*#/ { next }
			index($0, v) && (index($0, p) || !index($0, "idProduct")) &&
				($0 ~ /TAG\+="uaccess"/ || $0 ~ /MODE="0?6[0-7]6"/) { found = 1 }
			END { exit !found }'
}

# Whether others may read and write node $1, or it has an ACL (uaccess gives one).
node_open_to_users() {
	mode=$(stat -c %a "$1") || return 1
	case "$mode" in
	*[67]) return 0 ;;
	esac
	command -v getfacl >/dev/null && getfacl -c "$1" 2>/dev/null | grep -q '^user:[^:]'
}

# USB devices users may not open, as "node<TAB>vendor<TAB>product<TAB>name<TAB>mode" lines.
locked_devices() {
	r=$(kefu_root)
	list=$(python3 ./usb-devices.py) || return 1
	[ -n "$list" ] || return 0
	echo "$list" | while IFS="$(printf '\t')" read -r node vendor product name; do
		[ -c "$r$node" ] || continue
		node_open_to_users "$r$node" && continue
		rule_gives_access "$vendor" "$product" && continue
		printf '%s\t%s\t%s\t%s\t%s\n' "$node" "$vendor" "$product" "$name" "$(stat -c '%A %U %G' "$r$node")"
	done
}

json_text() {
	printf '%s' "$1" | tr -d '\000-\037' | sed 's/\\/\\\\/g; s/"/\\"/g'
}
