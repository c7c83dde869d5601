#!/usr/bin/env python3
"""Generates the RFC 4475 section 3.1.1 / 3.1.2 torture messages as <tag>.sip files.

Each message is held below in the RFC's own notation (RFC 4475 section 2) without the RFC's
three-space page indent, and expanded to the bytes that go on the wire:

  * every line ends in CRLF, the last one included (a message without a body ends with the
    empty line that closes its head);
  * <allOneLine> ... </allOneLine> (each tag alone on its line): the lines between are joined
    into one line; only the line breaks are removed, so any space that must appear at a join
    is written on one of the two lines;
  * <hex>...</hex> stands for the bytes its hex digits spell; whitespace and line breaks
    inside are ignored, so a block may span lines (mpart01's binary S/MIME part);
  * <repeat count=N>...</repeat> stands for N copies of its content.

The .sip files are checked in; the C test reads them, not this script. Run it from anywhere:

  python3 tests/sip/torture/gen.py          # writes the files, prints the table, checks
  python3 tests/sip/torture/gen.py --check  # only verifies that the checked-in files match

Provenance: the stored copies of RFC 4475 we could read showed only its first pages, so the
messages were transcribed from public test suites that quote the RFC's text or its archive
(the base64 tarball of .dat files in the RFC), cross-checked against each other (reSIProcate's
RFC4475TortureTests.cxx, the bobstack and nksip suites), and against invariants: every
Content-Length below, the <repeat> counts, and the DER structure of mpart01's signature. Where
the sources differ the archive wins (dblreq's extra CRLFs, trws's "examle"), except baddn (see
there).

It also checks every message's Content-Length against its body: all valid messages and most
invalid ones are consistent; EXPECTED_CLEN_MISMATCH lists the ones that are not on purpose.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# RFC 4475 section 3.1.1: valid messages (RFC section number, tag, text).
VALID = []
# RFC 4475 section 3.1.2: invalid messages.
INVALID = []


def msg(table, section, tag, text):
    table.append((section, tag, text))


# The SDP body most messages carry: 150 octets with a 9-character address (192.0.2.x),
# 152 with 192.0.2.xx, 154 with 192.0.2.xxx.
def sdp(o_addr, c_addr=None, t="0 0", video="m=video"):
    c_addr = c_addr or o_addr
    return (
        "v=0\n"
        f"o=mhandley 29739 7272939 IN IP4 {o_addr}\n"
        "s=-\n"
        f"c=IN IP4 {c_addr}\n"
        f"t={t}\n"
        "m=audio 49217 RTP/AVP 0 12\n"
        f"{video} 3227 RTP/AVP 31\n"
        "a=rtpmap:31 LPC"
    )


# ---- 3.1.1 Valid Messages ---------------------------------------------------------------

# 3.1.1.1 A Short Tortuous INVITE
msg(VALID, "3.1.1.1", "wsinv", r'''
INVITE sip:vivekg@chair-dnrc.example.com;unknownparam SIP/2.0
TO :
 sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n
from   : "J Rosenberg \\\""       <sip:jdrosen@example.com>
  ;
  tag = 98asjd8
MaX-fOrWaRdS: 0068
Call-ID: wsinv.ndaksdj@192.0.2.1
Content-Length   : 150
cseq: 0009
  INVITE
Via  : SIP  /   2.0
 /UDP
    192.0.2.2;branch=390skdjuw
s :
NewFangledHeader:   newfangled value
 continued newfangled value
UnknownHeaderWithUnusualValue: ;;,,;;,;
Content-Type: application/sdp
Route:
 <sip:services.example.com;lr;unknownwith=value;unknown-no-value>
v:  SIP  / 2.0  / TCP     spindle.example.com   ;
  branch  =   z9hG4bK9ikj8  ,
 SIP  /    2.0   / UDP  192.168.255.111   ; branch=
 z9hG4bK30239
m:"Quoted string \"\"" <sip:jdrosen@example.com> ; newparam =
      newvalue ;
  secondparam ; q = 0.33

''' + sdp("192.0.2.3", "192.0.2.4") + "\n")

# 3.1.1.2 Wide Range of Valid Characters
msg(VALID, "3.1.1.2", "intmeth", r'''
<allOneLine>
!interesting-Method0123456789_*+`.%indeed'~ sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*
:&it+has=1,weird!*pas$wo~d_too.(doesn't-it)@example.com SIP/2.0
</allOneLine>
Via: SIP/2.0/TCP host1.example.com;branch=z9hG4bK-.!%66*_+`'~
<allOneLine>
To: "BEL:\<hex>07</hex> NUL:\<hex>00</hex> DEL:\<hex>7F</hex>" <sip:1_unusual.URI~(to-be!sure)
&isn't+it$/crazy?,/;;*@example.com>
</allOneLine>
<allOneLine>
From: token1~` token2'+_ token3*%!.- <sip:mundane@example.com>;fromParam''~+*_!.-%=
"<hex>D180D0B0D0B1D0BED182D0B0D18ED189D0B8D0B9</hex>";tag=_token~1'+`*%!-.
</allOneLine>
Call-ID: intmeth.word%ZK-!.*_+'@word`~)(><:\/"][?}{
CSeq: 139122385 !interesting-Method0123456789_*+`.%indeed'~
Max-Forwards: 255
extensionHeader-!.%*+_`'~:<hex>EFBBBFE5A4A7E5819CE99BBB</hex>
Content-Length: 0

''')

# 3.1.1.3 Valid Use of the % Escaping Mechanism
msg(VALID, "3.1.1.3", "esc01", r'''
INVITE sip:sips%3Auser%40example.com@example.net SIP/2.0
To: sip:%75se%72@example.com
From: <sip:I%20have%20spaces@example.net>;tag=938
Max-Forwards: 87
i: esc01.239409asdfakjkn23onasd0-3234
CSeq: 234234 INVITE
Via: SIP/2.0/UDP host5.example.net;branch=z9hG4bKkdjuw
C: application/sdp
Contact:
  <sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31>
Content-Length: 150

''' + sdp("192.0.2.1") + "\n")

# 3.1.1.4 Escaped Nulls in URIs
msg(VALID, "3.1.1.4", "escnull", r'''
REGISTER sip:example.com SIP/2.0
To: sip:null-%00-null@example.com
From: sip:null-%00-null@example.com;tag=839923423
Max-Forwards: 70
Call-ID: escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd
CSeq: 14398234 REGISTER
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bKkdjuw
Contact: <sip:%00@host5.example.com>
Contact: <sip:%00%00@host5.example.com>
L:0

''')

# 3.1.1.5 Use of % When It Is Not an Escape
msg(VALID, "3.1.1.5", "esc02", r'''
RE%47IST%45R sip:registrar.example.com SIP/2.0
To: "%Z%45" <sip:resource@example.com>
From: "%Z%45" <sip:resource@example.com>;tag=f232jadfj23
Call-ID: esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf
Via: SIP/2.0/TCP host.example.com;branch=z9hG4bK209%fzsnel234
CSeq: 29344 RE%47IST%45R
Max-Forwards: 70
Contact: <sip:alias1@host1.example.com>
C%6Fntact: <sip:alias2@host2.example.com>
Contact: <sip:alias3@host3.example.com>
l: 0

''')

# 3.1.1.6 Message with No LWS between Display Name and <
msg(VALID, "3.1.1.6", "lwsdisp", r'''
OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: caller<sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID: lwsdisp.1234abcd@funky.example.com
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP funky.example.com;branch=z9hG4bKkdjuw
l: 0

''')

# 3.1.1.7 Long Values in Header Fields
msg(VALID, "3.1.1.7", "longreq", r'''
INVITE sip:user@example.com SIP/2.0
<allOneLine>
To: "I have a user name of <repeat count=10>extreme</repeat> proportion"
<sip:user@example.com:6000;unknownparam1=very<repeat count=20>long</repeat>value;
longparam<repeat count=25>name</repeat>=shortvalue;
very<repeat count=25>long</repeat>ParameterNameWithNoValue>
</allOneLine>
<allOneLine>
F: sip:<repeat count=5>amazinglylongcallername</repeat>@example.net
;tag=12<repeat count=50>982</repeat>424
;unknownheaderparam<repeat count=20>name</repeat>=
unknowheaderparam<repeat count=15>value</repeat>
;unknownValueless<repeat count=10>paramname</repeat>
</allOneLine>
Call-ID: longreq.one<repeat count=20>really</repeat>longcallid
CSeq: 3882340 INVITE
<allOneLine>
Unknown-<repeat count=20>Long</repeat>-Name:
 unknown-<repeat count=20>long</repeat>-value;
 unknown-<repeat count=20>long</repeat>-parameter-name =
 unknown-<repeat count=20>long</repeat>-parameter-value
</allOneLine>
Via: SIP/2.0/TCP sip33.example.com
v: SIP/2.0/TCP sip32.example.com
V: SIP/2.0/TCP sip31.example.com
Via: SIP/2.0/TCP sip30.example.com
ViA: SIP/2.0/TCP sip29.example.com
VIa: SIP/2.0/TCP sip28.example.com
VIA: SIP/2.0/TCP sip27.example.com
via: SIP/2.0/TCP sip26.example.com
viA: SIP/2.0/TCP sip25.example.com
vIa: SIP/2.0/TCP sip24.example.com
vIA: SIP/2.0/TCP sip23.example.com
V :  SIP/2.0/TCP sip22.example.com
v :  SIP/2.0/TCP sip21.example.com
V  : SIP/2.0/TCP sip20.example.com
v  : SIP/2.0/TCP sip19.example.com
Via : SIP/2.0/TCP sip18.example.com
Via  : SIP/2.0/TCP sip17.example.com
Via: SIP/2.0/TCP sip16.example.com
Via: SIP/2.0/TCP sip15.example.com
Via: SIP/2.0/TCP sip14.example.com
Via: SIP/2.0/TCP sip13.example.com
Via: SIP/2.0/TCP sip12.example.com
Via: SIP/2.0/TCP sip11.example.com
Via: SIP/2.0/TCP sip10.example.com
Via: SIP/2.0/TCP sip9.example.com
Via: SIP/2.0/TCP sip8.example.com
Via: SIP/2.0/TCP sip7.example.com
Via: SIP/2.0/TCP sip6.example.com
Via: SIP/2.0/TCP sip5.example.com
Via: SIP/2.0/TCP sip4.example.com
Via: SIP/2.0/TCP sip3.example.com
Via: SIP/2.0/TCP sip2.example.com
Via: SIP/2.0/TCP sip1.example.com
<allOneLine>
Via: SIP/2.0/TCP host.example.com;received=192.0.2.5;
branch=very<repeat count=50>long</repeat>branchvalue
</allOneLine>
Max-Forwards: 70
<allOneLine>
Contact: <sip:
<repeat count=5>amazinglylongcallername</repeat>
@host5.example.net>
</allOneLine>
Content-Type: application/sdp
l: 150

''' + sdp("192.0.2.1") + "\n")

# 3.1.1.8 Extra Trailing Octets in a UDP Datagram: the datagram holds a REGISTER with
# Content-Length 0 followed by an INVITE; only the REGISTER is the message. The RFC shows an
# empty line more between the two, and its archive (dblreq.dat) also ends in one more CRLF.
msg(VALID, "3.1.1.8", "dblreq", r'''
REGISTER sip:example.com SIP/2.0
To: sip:j.user@example.com
From: sip:j.user@example.com;tag=43251j3j324
Max-Forwards: 8
I: dblreq.0ha0isndaksdj99sdfafnl3lk233412
Contact: sip:j.user@host.example.com
CSeq: 8 REGISTER
Via: SIP/2.0/UDP 192.0.2.125;branch=z9hG4bKkdjuw23492
Content-Length: 0


INVITE sip:joe@example.com SIP/2.0
t: sip:joe@example.com
From: sip:caller@example.net;tag=141334
Max-Forwards: 8
Call-ID: dblreq.0ha0isnda977644900765@192.0.2.15
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;branch=z9hG4bKkdjuw380234
Content-Type: application/sdp
Content-Length: 150

''' + sdp("192.0.2.15", video="m =video") + "\n\n")

# 3.1.1.9 Semicolon-Separated Parameters in URI User Part
msg(VALID, "3.1.1.9", "semiuri", r'''
OPTIONS sip:user;par=u%40example.net@example.com SIP/2.0
To: sip:j_user@example.com
From: sip:caller@example.org;tag=33242
Max-Forwards: 3
Call-ID: semiuri.0ha0isndaksdj
CSeq: 8 OPTIONS
Accept: application/sdp, application/pkcs7-mime,
        multipart/mixed, multipart/signed,
        message/sip, message/sipfrag
Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKkdjuw
l: 0

''')

# 3.1.1.10 Varied and Unknown Transport Types
msg(VALID, "3.1.1.10", "transports", r'''
OPTIONS sip:user@example.com SIP/2.0
To: sip:user@example.com
From: <sip:caller@example.com>;tag=323
Max-Forwards: 70
Call-ID:  transports.kijh4akdnaqjkwendsasfdj
Accept: application/sdp
CSeq: 60 OPTIONS
Via: SIP/2.0/UDP t1.example.com;branch=z9hG4bKkdjuw
Via: SIP/2.0/SCTP t2.example.com;branch=z9hG4bKklasjdhf
Via: SIP/2.0/TLS t3.example.com;branch=z9hG4bK2980unddj
Via: SIP/2.0/UNKNOWN t4.example.com;branch=z9hG4bKasd0f3en
Via: SIP/2.0/TCP t5.example.com;branch=z9hG4bK0a9idfnee
l: 0

''')

# 3.1.1.11 Multipart MIME Message: the second part is a binary S/MIME signature (DER, with
# NUL and CR/LF octets inside); the part ends with the CRLF before the closing boundary.
msg(VALID, "3.1.1.11", "mpart01", r'''
MESSAGE sip:kumiko@example.org SIP/2.0
<allOneLine>
Via: SIP/2.0/UDP 127.0.0.1:5070
;branch=z9hG4bK-d87543-4dade06d0bdb11ee-1--d87543-;rport
</allOneLine>
Max-Forwards: 70
Route: <sip:127.0.0.1:5080>
<allOneLine>
Identity: r5mwreLuyDRYBi/0TiPwEsY3rEVsk/G2WxhgTV1PF7hHuLIK0YWVKZhKv9Mj8UeXqkMVbnVq37CD+8
13gvYjcBUaZngQmXc9WNZSDNGCzA+fWl9MEUHWIZo1CeJebdY/XlgKeTa0Olvq0rt70Q5jiSfbqMJmQFteeivUhkMWYUA=
</allOneLine>
Contact: <sip:fluffy@127.0.0.1:5070>
To: <sip:kumiko@example.org>
From: <sip:fluffy@example.com>;tag=2fb0dcc9
Call-ID: 3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..
CSeq: 1 MESSAGE
Content-Transfer-Encoding: binary
Content-Type: multipart/mixed;boundary=7a9cbec02ceef655
Date: Sat, 15 Oct 2005 04:44:56 GMT
User-Agent: SIPimp.org/0.2.5 (curses)
Content-Length: 553

--7a9cbec02ceef655
Content-Type: text/plain
Content-Transfer-Encoding: binary

Hello
--7a9cbec02ceef655
Content-Type: application/octet-stream
Content-Transfer-Encoding: binary

<hex>3082015206092A86
4886F70D010702A08201433082013F02
01013109300706052B0E03021A300B06
092A864886F70D010701318201203082
011C020101307C3070310B3009060355
04061302555331133011060355040813
0A43616C69666F726E69613111300F06
03550407130853616E204A6F7365310E
300C060355040A130573697069743129
3027060355040B132053697069742054
65737420436572746966696361746520
417574686F7269747902080195007102
330113300706052B0E03021A300D0609
2A864886F70D01010105000481808EF4
66F948F0522DD2E5978E9D95AAE9F2FE
15A06659716292E8DA2AA8D8350A68CE
FFAE3CBD2BFF1675DDD5648E593DD647
28F26220F7E941749E330D9A15EDABDB
93D10C42102E7B7289D29CC0C9AE2EFB
C7C0CFF9172F3B027E4FC027E1546DE4
B6AA3ABB3E66CCCB5DD6C64B8383149C
B8E6FF182D944FE57B65BC99D005</hex>
--7a9cbec02ceef655--
''')

# 3.1.1.12 Unusual Reason Phrase (UTF-8: "no sto devyanosto devyat' - prostoe")
msg(VALID, "3.1.1.12", "unreason", r'''
<allOneLine>
SIP/2.0 200 = 2**3 * 5**2 <hex>D0BDD0BE20D181D182D0BE20D0B4D0B5D0B2D18FD0BDD0BE
D181D182D0BE20D0B4D0B5D0B2D18FD182D18C202D20D0BFD180D0BED181D182D0BED0B5</hex>
</allOneLine>
Via: SIP/2.0/UDP 192.0.2.198;branch=z9hG4bK1324923
Call-ID: unreason.1234ksdfak3j2erwedfsASdf
CSeq: 35 INVITE
From: sip:user@example.com;tag=11141343
To: sip:user@example.edu;tag=2229
Content-Length: 154
Content-Type: application/sdp
Contact: <sip:user@host198.example.com>

''' + sdp("192.0.2.198") + "\n")

# 3.1.1.13 Empty Reason Phrase: the status line ends in "100" SP CRLF.
msg(VALID, "3.1.1.13", "noreason", r'''
SIP/2.0 100<hex>20</hex>
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: noreason.asndj203insdf99223ndf
CSeq: 35 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

''')

# ---- 3.1.2 Invalid Messages -------------------------------------------------------------

# 3.1.2.1 Extraneous Header Field Separators
msg(INVALID, "3.1.2.1", "badinv01", r'''
INVITE sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=134161461246
Max-Forwards: 7
Call-ID: badinv01.0ha0isndaksdjasdf3234nas
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.15;;,;,,
Contact: "Joe" <sip:joe@example.org>;;;;
Content-Length: 152
Content-Type: application/sdp

''' + sdp("192.0.2.15") + "\n")

# 3.1.2.2 Content Length Larger Than Message
msg(INVALID, "3.1.2.2", "clerr", r'''
INVITE sip:user@example.com SIP/2.0
Max-Forwards: 80
To: sip:j.user@example.com
From: sip:caller@example.net;tag=93942939o2
Contact: <sip:caller@hungry.example.net>
Call-ID: clerr.0ha0isndaksdjweiafasdk3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host5.example.com;branch=z9hG4bK-39234-23523
Content-Type: application/sdp
Content-Length: 9999

''' + sdp("192.0.2.155") + "\n")

# 3.1.2.3 Negative Content-Length
msg(INVALID, "3.1.2.3", "ncl", r'''
INVITE sip:user@example.com SIP/2.0
Max-Forwards: 254
To: sip:j.user@example.com
From: sip:caller@example.net;tag=32394234
Call-ID: ncl.0ha0isndaksdj2193423r542w35
CSeq: 0 INVITE
Via: SIP/2.0/UDP 192.0.2.53;branch=z9hG4bKkdjuw
Contact: <sip:caller@example53.example.net>
Content-Type: application/sdp
Content-Length: -999

''' + sdp("192.0.2.53") + "\n")

# 3.1.2.4 Request Scalar Fields with Overlarge Values
msg(INVALID, "3.1.2.4", "scalar02", r'''
REGISTER sip:example.com SIP/2.0
Via: SIP/2.0/TCP host129.example.com;branch=z9hG4bK342sdfoi3
To: <sip:user@example.com>
From: <sip:user@example.com>;tag=239232jh3
CSeq: 36893488147419103232 REGISTER
Call-ID: scalar02.23o0pd9vanlq3wnrlnewofjas9ui32
Max-Forwards: 300
Expires: 1<repeat count=100>0</repeat>
Contact: <sip:user@host129.example.com>
  ;expires=280297596632815
Content-Length: 0

''')

# 3.1.2.5 Response Scalar Fields with Overlarge Values
msg(INVALID, "3.1.2.5", "scalarlg", r'''
SIP/2.0 503 Service Unavailable
<allOneLine>
Via: SIP/2.0/TCP host129.example.com
;branch=z9hG4bKzzxdiwo34sw;received=192.0.2.129
</allOneLine>
To: <sip:user@example.com>
From: <sip:other@example.net>;tag=2easdjfejw
CSeq: 9292394834772304023312 OPTIONS
Call-ID: scalarlg.noase0of0234hn2qofoaf0232aewf2394r
Retry-After: 949302838503028349304023988
Warning: 1812 overture "In Progress"
Content-Length: 0

''')

# 3.1.2.6 Unterminated Quoted String in Display Name
msg(INVALID, "3.1.2.6", "quotbal", r'''
INVITE sip:user@example.com SIP/2.0
To: "Mr. J. User <sip:j.user@example.com>
From: sip:caller@example.net;tag=93334
Max-Forwards: 10
Call-ID: quotbal.aksdj
Contact: <sip:caller@host59.example.net>
CSeq: 8 INVITE
Via: SIP/2.0/UDP 192.0.2.59:5050;branch=z9hG4bKkdjuw39234
Content-Type: application/sdp
Content-Length: 152

''' + sdp("192.0.2.15") + "\n")

# 3.1.2.7 <> Enclosing Request-URI
msg(INVALID, "3.1.2.7", "ltgtruri", r'''
INVITE <sip:user@example.com> SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=39291
Max-Forwards: 23
Call-ID: ltgtruri.1@192.0.2.5
CSeq: 1 INVITE
Via: SIP/2.0/UDP 192.0.2.5
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 159

''' + sdp("192.0.2.5", t="3149328700 0") + "\n")

# 3.1.2.8 Malformed SIP Request-URI (embedded LWS)
msg(INVALID, "3.1.2.8", "lwsruri", r'''
INVITE sip:user@example.com; lr SIP/2.0
To: sip:user@example.com;tag=3xfe-9921883-z9f
From: sip:caller@example.net;tag=231413434
Max-Forwards: 5
Call-ID: lwsruri.asdfasdoeoi2323-asdfwrn23-asd834rk423
CSeq: 2130706432 INVITE
Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKkdjuw2395
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 159

''' + sdp("192.0.2.1", t="3149328700 0") + "\n")

# 3.1.2.9 Multiple SP Separating Request-Line Elements
msg(INVALID, "3.1.2.9", "lwsstart", r'''
INVITE  sip:user@example.com  SIP/2.0
Max-Forwards: 8
To: sip:user@example.com
From: sip:caller@example.net;tag=8814
Call-ID: lwsstart.dfknq234oi243099adsdfnawe3@example.com
CSeq: 1893884 INVITE
Via: SIP/2.0/UDP host1.example.com;branch=z9hG4bKkdjuw3923
Contact: <sip:caller@host1.example.net>
Content-Type: application/sdp
Content-Length: 150

''' + sdp("192.0.2.1") + "\n")

# 3.1.2.10 SP Characters at End of Request-Line ("examle" is the RFC's own spelling)
msg(INVALID, "3.1.2.10", "trws", r'''
OPTIONS sip:remote-target@example.com SIP/2.0<hex>2020</hex>
Via: SIP/2.0/TCP host1.examle.com;branch=z9hG4bK299342093
To: <sip:remote-target@example.com>
From: <sip:local-resource@example.com>;tag=329429089
Call-ID: trws.oicu34958239neffasdhr2345r
Accept: application/sdp
CSeq: 238923 OPTIONS
Max-Forwards: 70
Content-Length: 0

''')

# 3.1.2.11 Escaped Headers in SIP Request-URI
msg(INVALID, "3.1.2.11", "escruri", r'''
INVITE sip:user@example.com?Route=%3Csip:example.com%3E SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=341518
Max-Forwards: 7
Contact: <sip:caller@host39923.example.net>
Call-ID: escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5
CSeq: 149209342 INVITE
Via: SIP/2.0/UDP host-of-the-hour.example.com;branch=z9hG4bKkdjuw
Content-Type: application/sdp
Content-Length: 150

''' + sdp("192.0.2.1") + "\n")

# 3.1.2.12 Invalid Time Zone in Date Header Field
msg(INVALID, "3.1.2.12", "baddate", r'''
INVITE sip:user@example.com SIP/2.0
To: sip:user@example.com
From: sip:caller@example.net;tag=2234923
Max-Forwards: 70
Call-ID: baddate.239423mnsadf3j23lj42--sedfnm234
CSeq: 1392934 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
Date: Fri, 01 Jan 2010 16:00:00 EST
Contact: <sip:caller@host5.example.net>
Content-Type: application/sdp
Content-Length: 150

''' + sdp("192.0.2.5") + "\n")

# 3.1.2.13 Failure to Enclose name-addr URI in <>
msg(INVALID, "3.1.2.13", "regbadct", r'''
REGISTER sip:example.com SIP/2.0
To: sip:user@example.com
From: sip:user@example.com;tag=998332
Max-Forwards: 70
Call-ID: regbadct.k345asrl3fdbv@10.0.0.1
CSeq: 1 REGISTER
Via: SIP/2.0/UDP 135.180.130.133:5060;branch=z9hG4bKkdjuw
Contact: sip:user@example.com?Route=%3Csip:sip.example.com%3E
l: 0

''')

# 3.1.2.14 Spaces within addr-spec
msg(INVALID, "3.1.2.14", "badaspec", r'''
OPTIONS sip:user@example.org SIP/2.0
Via: SIP/2.0/UDP host4.example.com:5060;branch=z9hG4bKkdju43234
Max-Forwards: 70
From: "Bell, Alexander" <sip:a.g.bell@example.com>;tag=433423
To: "Watson, Thomas" < sip:t.watson@example.org >
Call-ID: badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3
Accept: application/sdp
CSeq: 3923239 OPTIONS
l: 0

''')

# 3.1.2.15 Non-token Characters in Display Name. (The RFC's archive, baddn.dat, lacks the
# empty line that ends the head; the text cannot show it either way. We keep it: without it
# this is no message at all, and the test is about the display names.)
msg(INVALID, "3.1.2.15", "baddn", r'''
OPTIONS sip:t.watson@example.org SIP/2.0
Via:     SIP/2.0/UDP c.example.com:5060;branch=z9hG4bKkdjuw
Max-Forwards:      70
From:    Bell, Alexander <sip:a.g.bell@example.com>;tag=43
To:      Watson, Thomas <sip:t.watson@example.org>
Call-ID: baddn.31415@c.example.com
Accept: application/sdp
CSeq:    3923239 OPTIONS
l: 0

''')

# 3.1.2.16 Unknown Protocol Version
msg(INVALID, "3.1.2.16", "badvers", r'''
OPTIONS sip:t.watson@example.org SIP/7.0
Via:     SIP/7.0/UDP c.example.com;branch=z9hG4bKkdjuw
Max-Forwards:     70
From:    A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe
To:      T. Watson <sip:t.watson@example.org>
Call-ID: badvers.31417@c.example.com
CSeq:    1 OPTIONS
l: 0

''')

# 3.1.2.17 Start Line and CSeq Method Mismatch
msg(INVALID, "3.1.2.17", "mismatch01", r'''
OPTIONS sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch01.dj0234sxdfl3
CSeq: 8 INVITE
Via: SIP/2.0/UDP host.example.com;branch=z9hG4bKkdjuw
l: 0

''')

# 3.1.2.18 Unknown Method with CSeq Method Mismatch
msg(INVALID, "3.1.2.18", "mismatch02", r'''
NEWMETHOD sip:user@example.com SIP/2.0
To: sip:j.user@example.com
From: sip:caller@example.net;tag=34525
Max-Forwards: 6
Call-ID: mismatch02.dj0234sxdfl3
CSeq: 8 INVITE
Contact: <sip:caller@host.example.net>
Via: SIP/2.0/UDP host.example.net;branch=z9hG4bKkdjuw
Content-Type: application/sdp
l: 138

v=0
o=mhandley 29739 7272939 IN IP4 192.0.2.1
c=IN IP4 192.0.2.1
m=audio 49217 RTP/AVP 0 12
m=video 3227 RTP/AVP 31
a=rtpmap:31 LPC
''')

# 3.1.2.19 Overlarge Response Code
msg(INVALID, "3.1.2.19", "bigcode", r'''
SIP/2.0 4294967301 better not break the receiver
Via: SIP/2.0/UDP 192.0.2.105;branch=z9hG4bK2398ndaoe
Call-ID: bigcode.asdof3uj203asdnf3429uasdhfas3ehjasdfas9i
CSeq: 353494 INVITE
From: <sip:user@example.com>;tag=39ansfi3
To: <sip:user@example.edu>;tag=902jndnke3
Content-Length: 0
Contact: <sip:user@host105.example.com>

''')

# Content-Length that does not match the body on purpose (RFC 4475 says so).
EXPECTED_CLEN_MISMATCH = {
    "clerr": "Content-Length 9999 is larger than the 154-octet body (3.1.2.2)",
    "ncl": "Content-Length -999 is negative (3.1.2.3)",
}


# ---- expansion ----------------------------------------------------------------------------

def join_all_one_line(text):
    """Applies <allOneLine>: returns the logical lines of text."""
    out, group = [], None
    for line in text.split("\n"):
        if line == "<allOneLine>":
            assert group is None, "nested <allOneLine>"
            group = []
        elif line == "</allOneLine>":
            assert group is not None, "</allOneLine> without <allOneLine>"
            out.append("".join(group))
            group = None
        elif group is not None:
            group.append(line)
        else:
            out.append(line)
    assert group is None, "unterminated <allOneLine>"
    return out


REPEAT = re.compile(r"<repeat count=(\d+)>(.*?)</repeat>", re.S)
HEX = re.compile(r"<hex>(.*?)</hex>", re.S)


def expand(text):
    """RFC 4475 section 2 notation -> wire bytes."""
    assert text.startswith("\n") and text.endswith("\n"), "text must sit on its own lines"
    lines = join_all_one_line(text[1:-1])
    s = "\n".join(lines) + "\n"
    s = REPEAT.sub(lambda m: m.group(2) * int(m.group(1)), s)
    out, pos = bytearray(), 0
    for m in HEX.finditer(s):
        out += plain(s[pos:m.start()])
        digits = re.sub(r"\s", "", m.group(1))
        out += bytes.fromhex(digits)
        pos = m.end()
    out += plain(s[pos:])
    return bytes(out)


def plain(s):
    assert "<" + "hex>" not in s and "</hex>" not in s and "<repeat" not in s, s
    return s.encode("ascii").replace(b"\n", b"\r\n")


# ---- checks -------------------------------------------------------------------------------

def content_length(head):
    """Value of the first Content-Length (or l) header of a head, as written, or None."""
    for line in head.split(b"\r\n")[1:]:
        name, sep, value = line.partition(b":")
        if sep and name.strip().lower() in (b"content-length", b"l"):
            return value.strip().decode()
    return None


def first_message(raw):
    """(head, body-as-framed, declared) of the first message of raw."""
    head, _, rest = raw.partition(b"\r\n\r\n")
    declared = content_length(head)
    return head, rest, declared


def check_der(raw):
    """mpart01's binary part must be one well-formed DER SEQUENCE (catches a typo)."""
    start = raw.index(b"binary\r\n\r\n0\x82") + len(b"binary\r\n\r\n")
    assert raw[start] == 0x30 and raw[start + 1] == 0x82
    n = 4 + (raw[start + 2] << 8 | raw[start + 3])
    assert raw[start + n:start + n + 2] == b"\r\n", "DER length does not end at CRLF"
    assert raw[start + n + 2:] == b"--7a9cbec02ceef655--\r\n"
    return n


def main():
    check_only = "--check" in sys.argv[1:]
    bad = 0
    print(f"{'tag':<11} {'sect':<9} {'bytes':>6} {'CL':>6} {'body':>6}  note")
    for section, tag, text in VALID + INVALID:
        raw = expand(text)
        head, rest, declared = first_message(raw)
        note = ""
        if tag == "dblreq":
            # Datagram: CL 0 frames the REGISTER; the INVITE after it is the trailing octets.
            body = b""
            second = rest[2:] if rest.startswith(b"\r\n") else rest
            h2, r2, cl2 = first_message(second)
            note = (f"REGISTER {len(head) + 4} bytes, {len(rest) - len(second)} octets CRLF, "
                    f"INVITE head {len(h2) + 4} + {len(r2)} octets after it (CL {cl2}): "
                    f"trailing octets, not consistent")
        else:
            body = rest
        if declared is None:
            note = "no Content-Length"
            bad += 1
        elif tag in EXPECTED_CLEN_MISMATCH:
            note = "deliberate: " + EXPECTED_CLEN_MISMATCH[tag]
            if declared.lstrip("-").isdigit() and int(declared) == len(body):
                note += " -- BUT IT MATCHES"
                bad += 1
        elif int(declared) != len(body):
            note = f"MISMATCH: declared {declared}, body {len(body)}"
            bad += 1
        if tag == "mpart01":
            note = f"DER signature {check_der(raw)} octets"
        print(f"{tag:<11} {section:<9} {len(raw):>6} {declared:>6} {len(body):>6}  {note}")
        path = os.path.join(HERE, tag + ".sip")
        if check_only:
            with open(path, "rb") as f:
                if f.read() != raw:
                    print(f"  {path} differs from the generator's output")
                    bad += 1
        else:
            with open(path, "wb") as f:
                f.write(raw)
    print(f"{len(VALID)} valid, {len(INVALID)} invalid, {bad} problem(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
