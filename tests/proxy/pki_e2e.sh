#!/usr/bin/env bash
# pki_e2e.sh SIPTLSD - the guide's step 1 (a-e) with siptlsctl, end to end: a throwaway CA made
# by the openssl CLI, a key and a request made by `siptlsctl pki`, the request signed by that CA,
# the CA authenticated and the certificate imported (and the wrong ones refused, each with its
# reason); then siptlsd serves the certificate, `openssl s_client -verify_return_error` verifies
# it, `show crypto pki trustpoints|certificates` list it with its dates and days to expiry, and
# a renewed certificate imported while it runs is served after `siptlsctl reload`. The
# trustpoint names its key by label (`rsakeypair kp1`, no key-file) and asks for the guide's
# `ip-address` and `serial-number` in the request, so those reach the CSR and the certificate.
set -euo pipefail
SIPTLSD=$(readlink -f "$1")
CTL="$(dirname "$SIPTLSD")/siptlsctl"
WORK=$(mktemp -d /tmp/siptls-pki.XXXXXX)
PKI="$WORK/pki"
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
fail() { echo "FAIL pki_enroll: $*"; echo "--- siptlsd log"; tail -40 "$WORK/siptlsd.log" 2>/dev/null; exit 1; }
step() { echo "== $*"; }

# a port below the ephemeral range, away from e2e.sh's (20000 + 10 * (hash % 1200))
PORT=$((33000 - 4096 + $(printf 'pki_enroll' | cksum | cut -d' ' -f1) % 1000))
pki() { "$CTL" pki -c "$WORK/siptlsd.cfg" --pki-dir "$PKI" "$@"; }

# expect_refused WHAT REASON CMD...: CMD must exit 1 and say REASON on stderr
expect_refused() {
	local what=$1 reason=$2 rc=0
	shift 2
	"$@" >"$WORK/out" 2>"$WORK/err" || rc=$?
	[ "$rc" = 1 ] || fail "$what: exit $rc, want 1 (refused): $(cat "$WORK/err")"
	grep -qF -- "$reason" "$WORK/err" || fail "$what: no '$reason' in: $(cat "$WORK/err")"
	echo "refused as expected ($what): $(grep '^%' "$WORK/err" | tail -1)"
}

# ---- a throwaway CA (and another one nobody trusts), with the openssl CLI ----
cat >"$WORK/ca.cnf" <<EOF
[req]
distinguished_name = dn
[dn]
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[leaf]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = DNS:client.test
[ca]
default_ca = old
[old]
dir = $WORK/cadb
database = $WORK/cadb/index.txt
serial = $WORK/cadb/serial
new_certs_dir = $WORK/cadb
default_md = sha256
policy = any
copy_extensions = copy
unique_subject = no
[any]
commonName = supplied
EOF
mkca() { # mkca NAME SUBJECT
	openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
		-config "$WORK/ca.cnf" -extensions v3_ca -days 3650 -subj "$2" \
		-keyout "$WORK/$1.key" -out "$WORK/$1.pem" 2>/dev/null || fail "openssl: CA $1"
}
mkca ca "/CN=Throwaway Test CA/O=siptlsd e2e"
mkca other "/CN=Some Other CA"
# a client certificate from the same CA: the tenant's profile asks for one (mutual TLS)
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=client.test" \
	-config "$WORK/ca.cnf" -keyout "$WORK/client.key" -out "$WORK/client.csr" 2>/dev/null
openssl x509 -req -in "$WORK/client.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" \
	-CAcreateserial -days 30 -extfile "$WORK/ca.cnf" -extensions leaf -out "$WORK/client.pem" 2>/dev/null

# ---- step 1b: the trustpoint, as the guide writes it plus where its files are ----
# (the key by its label only: siptlsctl pki finds it as $PKI/kp1.key; 192.0.2.10 is a
# documentation address, RFC 5737, that only ever appears inside the certificate)
IPADDR=192.0.2.10
cat >"$WORK/siptlsd.cfg" <<EOF
ip domain name test
crypto pki trustpoint EDGE
 enrollment terminal
 fqdn edge.test
 ip-address $IPADDR
 serial-number
 subject-name cn=edge.test, o=siptlsd e2e
 subject-alt-name edge.test
 revocation-check none
 rsakeypair kp1
 certificate-file $PKI/EDGE.crt
 ca-file $PKI/EDGE-ca.pem
voice class tls-profile 100
 trustpoint EDGE
voice class tenant 100
 tls-profile 100
 listen-port secure $PORT
 bind control source-interface 127.0.0.1
 session transport tcp tls
!
EOF

# ---- step 1a: the key pair ----
step "1a crypto key generate"
expect_refused "modulus 1024" "below 2048 bits" pki crypto key generate rsa general-keys label kp1 modulus 1024
expect_refused "modulus 8192" "the guide accepts 512 to 4096" pki crypto key generate rsa general-keys label kp1 modulus 8192
expect_refused "usage-keys" "not supported" pki crypto key generate rsa usage-keys label kp1 modulus 2048
pki crypto key generate rsa general-keys label kp1 exportable modulus 2048 2>"$WORK/gen.err" || fail "key generate: $(cat "$WORK/gen.err")"
cat "$WORK/gen.err"
grep -q "name it in the trustpoint: rsakeypair kp1" "$WORK/gen.err" || fail "key generate does not say how to name the key"
[ "$(stat -c %a "$PKI/kp1.key")" = 600 ] || fail "key mode $(stat -c %a "$PKI/kp1.key"), want 600"
[ "$(stat -c %a "$PKI")" = 700 ] || fail "directory mode $(stat -c %a "$PKI"), want 700"
openssl pkey -in "$PKI/kp1.key" -noout -text 2>/dev/null | grep -q "Private-Key: (2048 bit" || fail "not an RSA 2048 key"
expect_refused "same label again" "already have keys named kp1" pki crypto key generate rsa general-keys label kp1 modulus 2048
pki cry key gen ec keysize 256 label kp2 || fail "EC key generate"
openssl pkey -in "$PKI/kp2.key" -noout -text 2>/dev/null | grep -q "NIST CURVE: P-256" || fail "not a P-256 key"

# ---- step 1c: the request, printed ----
step "1c crypto pki enroll"
# serial-number: the box's own (the hardware's, else derived from /etc/machine-id, never the ID
# itself); a test names it with --serial-number or $SIPTLS_SERIAL_NUMBER
expect_refused "serial number not printable" "cannot be a certificate's serialNumber" \
	env SIPTLS_SERIAL_NUMBER=bad_serial! "$CTL" pki -c "$WORK/siptlsd.cfg" --pki-dir "$PKI" crypto pki enroll EDGE
if [ ! -r /sys/class/dmi/id/product_serial ] && [ -s /etc/machine-id ]; then
	pki crypto pki enroll EDGE >"$WORK/box.csr" 2>"$WORK/box.err" || fail "enroll with the box's serial: $(cat "$WORK/box.err")"
	want=$(printf 'siptlsd serial-number' | openssl dgst -sha256 -mac HMAC -macopt "key:$(head -1 /etc/machine-id)" | sed 's/.*= //' | cut -c1-32)
	openssl req -in "$WORK/box.csr" -noout -subject | grep -q "serialNumber = $want," || fail "box serial: want $want: $(openssl req -in "$WORK/box.csr" -noout -subject)"
	grep -q "$(head -1 /etc/machine-id)" "$WORK/box.csr" "$WORK/box.err" && fail "the machine ID itself left the box"
	echo "serial number derived from /etc/machine-id: $want"
fi
SIPTLS_SERIAL_NUMBER=FTX2207E2E pki crypto pki enroll EDGE >"$WORK/edge.csr" 2>"$WORK/enroll.err" || fail "enroll: $(cat "$WORK/enroll.err")"
cat "$WORK/enroll.err"
grep -q "The request is signed with the key $PKI/kp1.key" "$WORK/enroll.err" || fail "enroll did not use the key labelled kp1"
grep -q "The serial number in the certificate will be: FTX2207E2E" "$WORK/enroll.err" || fail "enroll did not say the serial number"
[ -e "$PKI/EDGE.key" ] && fail "a key named after the trustpoint appeared"
openssl req -in "$WORK/edge.csr" -noout -verify 2>&1 | grep -q "verify OK" || fail "the request's signature"
openssl req -in "$WORK/edge.csr" -noout -text >"$WORK/csr.txt"
grep -q "Subject: CN = edge.test, O = siptlsd e2e, serialNumber = FTX2207E2E, unstructuredAddress = $IPADDR$" "$WORK/csr.txt" || fail "request subject: $(grep Subject: "$WORK/csr.txt")"
grep -q "DNS:edge.test, IP Address:$IPADDR$" "$WORK/csr.txt" || fail "request SAN: $(grep -A1 'Alternative Name' "$WORK/csr.txt")"
[ "$(openssl req -in "$WORK/edge.csr" -noout -pubkey | openssl sha256)" = "$(openssl pkey -in "$PKI/kp1.key" -pubout | openssl sha256)" ] || fail "the request is not for kp1"

# the CA signs it (copying the requested names); a few wrong ones for the refusals
sign() { # sign CA DAYS OUT [extra x509 options]
	openssl x509 -req -in "$WORK/edge.csr" -CA "$WORK/$1.pem" -CAkey "$WORK/$1.key" -CAcreateserial \
		-days "$2" -out "$WORK/$3" "${@:4}" 2>/dev/null || fail "openssl: sign $3"
}
sign ca 20 edge-20d.pem -copy_extensions copy
sign ca 365 edge-365d.pem -copy_extensions copy
sign other 20 edge-other.pem -copy_extensions copy
sign ca 20 edge-nosan.pem
sign ca 20 edge-noip.pem -extfile <(printf 'subjectAltName = DNS:edge.test\n')
mkdir -p "$WORK/cadb" && : >"$WORK/cadb/index.txt" && echo 1000 >"$WORK/cadb/serial"
openssl ca -batch -config "$WORK/ca.cnf" -cert "$WORK/ca.pem" -keyfile "$WORK/ca.key" \
	-startdate 20200101000000Z -enddate 20200201000000Z -in "$WORK/edge.csr" \
	-out "$WORK/edge-expired.pem" >/dev/null 2>&1 || fail "openssl ca: expired certificate"
openssl req -new -key "$PKI/kp2.key" -subj "/CN=edge.test" -addext "subjectAltName=DNS:edge.test" \
	-out "$WORK/kp2.csr" 2>/dev/null
openssl x509 -req -in "$WORK/kp2.csr" -CA "$WORK/ca.pem" -CAkey "$WORK/ca.key" -CAcreateserial \
	-days 20 -copy_extensions copy -out "$WORK/edge-otherkey.pem" 2>/dev/null

# ---- step 1d: authenticate the CA ----
step "1d crypto pki authenticate"
expect_refused "import before authenticate" "is not authenticated" pki crypto pki import EDGE certificate <"$WORK/edge-20d.pem"
expect_refused "a server certificate as CA" "is not a CA certificate" pki crypto pki authenticate EDGE <"$WORK/edge-20d.pem"
expect_refused "no PEM at all" "no PEM certificate found" pki crypto pki authenticate EDGE </dev/null
pki crypto pki authenticate EDGE <"$WORK/ca.pem" 2>"$WORK/auth.err" || fail "authenticate: $(cat "$WORK/auth.err")"
cat "$WORK/auth.err"
want_fp=$(openssl x509 -in "$WORK/ca.pem" -noout -fingerprint -sha256 | cut -d= -f2)
grep -qF "Fingerprint SHA256: $want_fp" "$WORK/auth.err" || fail "authenticate did not show the CA's SHA-256 fingerprint $want_fp"
grep -q "Subject: CN=Throwaway Test CA,O=siptlsd e2e" "$WORK/auth.err" || fail "authenticate did not show the CA's subject"
cmp -s <(openssl x509 -in "$PKI/EDGE-ca.pem") <(openssl x509 -in "$WORK/ca.pem") || fail "stored CA differs"
[ "$(stat -c %a "$PKI/EDGE-ca.pem")" = 600 ] || fail "CA file mode"

# ---- step 1e: import, the wrong ones first ----
step "1e crypto pki import"
expect_refused "wrong key" "does not match the trustpoint's key" pki crypto pki import EDGE certificate <"$WORK/edge-otherkey.pem"
expect_refused "other CA" "does not chain to the authenticated CA" pki crypto pki import EDGE certificate <"$WORK/edge-other.pem"
expect_refused "expired" "has expired" pki crypto pki import EDGE certificate <"$WORK/edge-expired.pem"
expect_refused "missing SAN" "lacks the name edge.test" pki crypto pki import EDGE certificate <"$WORK/edge-nosan.pem"
expect_refused "missing ip-address" "lacks the name $IPADDR the trustpoint declares (no subjectAltName iPAddress" pki crypto pki import EDGE certificate <"$WORK/edge-noip.pem"
[ -e "$PKI/EDGE.crt" ] && fail "a refused certificate was written"
expect_refused "unknown trustpoint" "Trustpoint NOPE is not defined" pki crypto pki import NOPE certificate <"$WORK/edge-20d.pem"
pki crypto pki import EDGE certificate <"$WORK/edge-20d.pem" 2>"$WORK/import.err" || fail "import: $(cat "$WORK/import.err")"
cat "$WORK/import.err"
[ "$(stat -c %a "$PKI/EDGE.crt")" = 600 ] || fail "certificate file mode"
openssl x509 -in "$PKI/EDGE.crt" -noout -ext subjectAltName | grep -q "IP Address:$IPADDR" || fail "imported certificate has no IP SAN"
# siptlsd reads the key from key-file only: import says which line to add, and the operator adds it
grep -qF "add the line 'key-file $PKI/kp1.key'" "$WORK/import.err" || fail "import did not say to add key-file"
sed -i "s|^ rsakeypair kp1\$|&\n key-file $PKI/kp1.key|" "$WORK/siptlsd.cfg"
grep -qx " key-file $PKI/kp1.key" "$WORK/siptlsd.cfg" || fail "could not add key-file"

# ---- siptlsd serves it; an independent client verifies it ----
step "siptlsd serves the imported certificate"
"$SIPTLSD" -c "$WORK/siptlsd.cfg" --workers 1 --no-pin -f --log-level info \
	--control "$WORK/ctl.sock" >"$WORK/siptlsd.log" 2>&1 &
PROXY_PID=$!
PIDS+=($PROXY_PID)
for _ in $(seq 100); do
	grep -q "siptlsd running" "$WORK/siptlsd.log" 2>/dev/null && break
	kill -0 $PROXY_PID 2>/dev/null || fail "siptlsd exited at start"
	sleep 0.05
done
grep -q "siptlsd running" "$WORK/siptlsd.log" || fail "siptlsd did not start"
# a certificate in use that ends within 30 days is logged at load (docs/pki.md)
grep -Eq "%PKI-4-CERT_EXPIRY_WARNING: Certificate expires in (19|20) days - trustpoint=EDGE" \
	"$WORK/siptlsd.log" || fail "no expiry warning at load"

served() { # the SHA-256 fingerprint of what the server presents, verified against ca.pem
	local out
	out=$(timeout 10 openssl s_client -connect "127.0.0.1:$PORT" -servername edge.test \
		-CAfile "$WORK/ca.pem" -verify_return_error -verify_hostname edge.test \
		-cert "$WORK/client.pem" -key "$WORK/client.key" </dev/null 2>&1) || fail "s_client: $out"
	echo "$out" | grep -q "Verify return code: 0 (ok)" || fail "not verified: $out"
	echo "$out" | openssl x509 -noout -fingerprint -sha256 | cut -d= -f2
}
got=$(served)
[ "$got" = "$(openssl x509 -in "$WORK/edge-20d.pem" -noout -fingerprint -sha256 | cut -d= -f2)" ] ||
	fail "siptlsd served $got, not the imported certificate"
echo "served and verified: $got"

# ---- show crypto pki, against the running daemon ----
step "show crypto pki trustpoints / certificates"
ctl() { "$CTL" --control "$WORK/ctl.sock" "$@"; }
ctl show crypto pki trustpoints >"$WORK/tp.out" || fail "show crypto pki trustpoints: $(cat "$WORK/tp.out")"
cat "$WORK/tp.out"
grep -q "^Trustpoint EDGE:" "$WORK/tp.out" || fail "trustpoints: no EDGE"
grep -q "CN=Throwaway Test CA,O=siptlsd e2e" "$WORK/tp.out" || fail "trustpoints: no CA subject"
grep -q "Certificate configured." "$WORK/tp.out" || fail "trustpoints: no certificate"
# 20 days from signing, rounded down: 19, or 20 within the second it was signed
grep -Eq "days until expiry: (19|20)$" "$WORK/tp.out" || fail "trustpoints: days until expiry"
ctl sh cry pki cert >"$WORK/certs.out" || fail "show crypto pki certificates"
cat "$WORK/certs.out"
end=$(openssl x509 -in "$WORK/edge-20d.pem" -noout -enddate | cut -d= -f2)
end_router=$(date -u -d "$end" '+%H:%M:%S UTC %b %d %Y')
serial=$(openssl x509 -in "$WORK/edge-20d.pem" -noout -serial | cut -d= -f2)
grep -q "^Certificate$" "$WORK/certs.out" || fail "certificates: no own certificate"
grep -q "^CA Certificate$" "$WORK/certs.out" || fail "certificates: no CA certificate"
grep -q "Certificate Serial Number (hex): $serial" "$WORK/certs.out" || fail "certificates: serial $serial"
grep -q "end   date: $end_router" "$WORK/certs.out" || fail "certificates: end date $end_router"
grep -q "CN=edge.test,O=siptlsd e2e" "$WORK/certs.out" || fail "certificates: subject"
grep -q "\*\* expires within 30 days" "$WORK/certs.out" || fail "certificates: no expiry note for 20 days"
ctl show crypto pki certificates '|' json >"$WORK/certs.json" || fail "json"
python3 - "$WORK/certs.json" <<'EOF' || fail "json: $(cat "$WORK/certs.json")"
import json, sys
d = json.load(open(sys.argv[1]))
tp = d["trustpoints"]
assert [t["name"] for t in tp] == ["EDGE"], tp
kinds = [c["kind"] for c in tp[0]["certificates"]]
assert kinds == ["certificate", "ca"], kinds
own = tp[0]["certificates"][0]
assert own["subject"] == "CN=edge.test,O=siptlsd e2e,serialNumber=FTX2207E2E,unstructuredAddress=192.0.2.10", own
assert own["days_left"] in (19, 20) and own["not_after"] - own["not_before"] == 20 * 86400, own
EOF

# ---- renewal: import a longer certificate while it runs, reload, it is served ----
step "renewal: import, reload"
pki crypto pki import EDGE certificate <"$WORK/edge-365d.pem" 2>/dev/null || fail "import of the renewal"
ctl reload | grep -q "Configuration 2 loaded" || fail "reload"
got=$(served)
[ "$got" = "$(openssl x509 -in "$WORK/edge-365d.pem" -noout -fingerprint -sha256 | cut -d= -f2)" ] ||
	fail "after reload siptlsd served $got, not the renewed certificate"
ctl show crypto pki trustpoints | grep -Eq "days until expiry: (364|365)$" || fail "renewed: days until expiry"
ctl show crypto pki certificates | grep -q "expires within" && fail "renewed: still flagged as expiring"
[ "$(grep -c "CERT_EXPIRY_WARNING" "$WORK/siptlsd.log")" = 1 ] ||
	fail "the renewed certificate was warned about at reload"

kill -TERM $PROXY_PID
wait $PROXY_PID || fail "siptlsd exit status $? after SIGTERM"
grep -q "ERROR: AddressSanitizer\|runtime error" "$WORK/siptlsd.log" && fail "sanitizer report"
echo "PASS pki_enroll"
