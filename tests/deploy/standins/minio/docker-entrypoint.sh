#!/bin/sh
# As the MinIO image's entrypoint: any command but `minio` is taken as minio's arguments.
set -e
if [ "${1}" != "minio" ] && [ -n "${1}" ]; then
	set -- minio "$@"
fi
exec "$@"
