#!/bin/sh
# The official redis image's entrypoint: options alone mean redis-server; as root, own /data and
# drop to the redis user. The official image compiles protected mode off; Debian's build leaves
# it on, which refuses every client from another container. So protected mode is turned off
# first, and whatever the caller sets (a --protected-mode option, or a config file, included
# after it) still decides.
set -e

if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

if [ "$1" = 'redis-server' ] && [ "$(id -u)" = '0' ]; then
	find . \! -user redis -exec chown redis '{}' +
	exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

if [ "$1" = 'redis-server' ]; then
	shift
	defaults="$(mktemp /tmp/redis-defaults.XXXXXX.conf)"
	echo 'protected-mode no' > "$defaults"
	if [ "${1%.conf}" != "${1:-}" ]; then
		echo "include $1" >> "$defaults"
		shift
	fi
	set -- redis-server "$defaults" "$@"
fi

um="$(umask)"
if [ "$um" = '0022' ]; then
	umask 0077
fi

exec "$@"
