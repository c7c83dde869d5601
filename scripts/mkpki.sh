#!/usr/bin/env bash
# mkpki.sh DIR [NAME...] - a throwaway test PKI with the openssl CLI: an ECDSA P-256 CA
# (DIR/ca.pem, ca.key; kept when DIR already has one), then for each NAME (default: proxy uas
# uac) a certificate NAME.pem and
# key NAME.key signed by it, CN=NAME.test, SAN DNS:NAME.test, DNS:localhost, IP:127.0.0.1.
# Valid for 2 days. For tests, benchmarks and the demo only.
set -euo pipefail
dir=$1
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(proxy uas uac)
mkdir -p "$dir"
cd "$dir"
[ -s ca.pem ] && [ -s ca.key ] ||
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key \
		-out ca.pem -subj /CN=siptls-test-ca -days 2 2>/dev/null
for who in "${names[@]}"; do
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$who.key" \
		-out "$who.csr" -subj "/CN=$who.test" 2>/dev/null
	printf 'subjectAltName=DNS:%s.test,DNS:localhost,IP:127.0.0.1\n' "$who" >"$who.ext"
	openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$who.pem" \
		-days 2 -extfile "$who.ext" 2>/dev/null
	rm -f "$who.csr" "$who.ext"
done
