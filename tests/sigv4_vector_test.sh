#!/bin/sh
# Script tests of the sigv4-vector tool (run by ctest, see cmake/sigv4.cmake).
#
#	sigv4_vector_test.sh TOOL case CASE_DIR [TOKEN]
#		the tool's output on CASE_DIR is byte for byte
#		NAME.creq, "----", NAME.sts, "----", NAME.authz (each + "\n")
#	sigv4_vector_test.sh TOOL suite DATA_DIR TOKEN
#		the same for every case folder under DATA_DIR (a folder NAME
#		holding NAME.req); TOKEN goes to get-vanilla-with-session-token;
#		fails unless at least 34 cases were found and all match
#	sigv4_vector_test.sh TOOL errors
#		bad arguments and bad requests exit 2 with a clear message
set -u

tool=$1
mode=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# check_case DIR [TOKEN]: 0 when the output matches.
check_case() {
	d=${1%/}
	name=${d##*/}
	{
		cat "$d/$name.creq"
		printf '\n----\n'
		cat "$d/$name.sts"
		printf '\n----\n'
		cat "$d/$name.authz"
		printf '\n'
	} >"$tmp/expected" || return 1
	if [ -n "${2:-}" ]; then
		"$tool" "$d" --token "$2" >"$tmp/got" || return 1
	else
		"$tool" "$d" >"$tmp/got" || return 1
	fi
	if ! cmp -s "$tmp/expected" "$tmp/got"; then
		diff -u "$tmp/expected" "$tmp/got"
		return 1
	fi
	return 0
}

# expect_error WANT ARGS...: exit status 2, nothing on stdout, WANT on stderr.
expect_error() {
	want=$1
	shift
	rc=0
	"$tool" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" -ne 2 ]; then
		echo "FAIL: sigv4-vector $* exited $rc, want 2"
		exit 1
	fi
	if [ -s "$tmp/out" ]; then
		echo "FAIL: sigv4-vector $* printed to stdout"
		exit 1
	fi
	if ! grep -q -- "$want" "$tmp/err"; then
		echo "FAIL: sigv4-vector $*: stderr lacks '$want':"
		cat "$tmp/err"
		exit 1
	fi
	echo "ok   $* -> $(cat "$tmp/err")"
}

# mkcase NAME CONTENT: a case folder holding NAME.req.
mkcase() {
	mkdir -p "$tmp/$1"
	printf "$2" >"$tmp/$1/$1.req"
}

case $mode in
case)
	check_case "$@" || { echo "FAIL ${1##*/}"; exit 1; }
	echo "ok   ${1##*/}"
	;;
suite)
	data=$1
	token=$2
	n=0
	bad=0
	for req in $(find "$data" -name '*.req' | sort); do
		d=${req%/*}
		name=${d##*/}
		[ "$name.req" = "${req##*/}" ] || continue
		tok=
		[ "$name" = get-vanilla-with-session-token ] && tok=$token
		n=$((n + 1))
		if check_case "$d" "$tok"; then
			echo "ok   $name"
		else
			echo "FAIL $name"
			bad=$((bad + 1))
		fi
	done
	echo "$n cases, $bad failed"
	[ "$n" -ge 34 ] || { echo "FAIL: found $n cases, want 34"; exit 1; }
	[ "$bad" -eq 0 ] || exit 1
	;;
errors)
	expect_error usage
	expect_error usage a b
	expect_error usage a --token
	expect_error usage --bogus a
	expect_error 'No such file' "$tmp/nonexistent"
	expect_error 'not a case folder' /
	mkcase nohost 'GET / HTTP/1.1\nX-Amz-Date:20150830T123600Z\n'
	expect_error 'missing host' "$tmp/nohost"
	mkcase nodate 'GET / HTTP/1.1\nHost:example.amazonaws.com\n'
	expect_error 'missing x-amz-date' "$tmp/nodate"
	mkcase baddate 'GET / HTTP/1.1\nHost:h\nX-Amz-Date:2015-08-30\n'
	expect_error 'bad x-amz-date' "$tmp/baddate"
	mkcase badline 'GET /\nHost:h\n'
	expect_error 'line 1: bad request line' "$tmp/badline"
	mkcase nocolon 'GET / HTTP/1.1\nHost example\n'
	expect_error "line 2: header line without ':'" "$tmp/nocolon"
	mkcase fold ' folded\nHost:h\n'
	expect_error 'line 1: bad request line' "$tmp/fold"
	mkcase fold2 'GET / HTTP/1.1\n folded\nHost:h\n'
	expect_error 'line 2: continuation line before any header' "$tmp/fold2"
	mkcase badname 'GET / HTTP/1.1\nHost:h\nX-Amz-Date:20150830T123600Z\nBad Name:v\n'
	expect_error 'bad name' "$tmp/badname"
	mkcase empty ''
	expect_error 'empty request' "$tmp/empty"
	# The token must be usable as a header value.
	mkcase tok 'GET / HTTP/1.1\nHost:h\nX-Amz-Date:20150830T123600Z\n'
	expect_error 'bad session token' "$tmp/tok" --token "$(printf 'a\nb')"
	echo "all error cases ok"
	;;
*)
	echo "usage: $0 TOOL case|suite|errors ..." >&2
	exit 2
	;;
esac
