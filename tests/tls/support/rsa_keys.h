/* Fixed RSA-2048 keys for the test PKI - TEST ONLY, never used outside tests/.
 *
 * Generating RSA keys is most of a TLS test's run time (about a second each natively, 5-11 s
 * under qemu), and every test builds its own PKI. The certificates are still made fresh for
 * each test; only these two keys are fixed. Made with `openssl genpkey -algorithm RSA`. */
#ifndef SIPTLS_TESTS_TLS_SUPPORT_RSA_KEYS_H
#define SIPTLS_TESTS_TLS_SUPPORT_RSA_KEYS_H

static const char tpki_rsa_key_root[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDeasBkXPaeIYze\n"
	"w5ZmvfnuMsXX61CbFdAHbz1SSl8V0HQGG5H/y44A2lgQDNpYpXlsojjWLgVdAqtW\n"
	"fO9vsYPExesBso28CNtQzsD/KIuEbsQYhuAF8cmgiC1a5P7MQXT8obdmktodTUoN\n"
	"2FMYNHt5Q33X1m6gQCPU2JywKf389xJX+l71Kjl3mnOYMLVKLWkmXzP0SoMaLk3u\n"
	"gwYa/KxRv05GFnaYSUmi9k8l2FEHLojzsh1Y2pYO1ba2i/bE+WXeeijMW9x00pj2\n"
	"oFrmEj+nm+YUwG2ViANSM15SIAw8pQ/u/eYw+So6hITsxGBIOMKFcFIAXmUneDC1\n"
	"14tDGddnAgMBAAECggEAG05j3G6FYJih4N+GYYrFWnclTwL23HNrHN6NWsMCtXzo\n"
	"Ia/U1uC4yGYGFcJeNC/snme0LqdrxSWEv5OLGd1jXg8mcQjo2cMEmgEoNKtXpaSr\n"
	"so8shc5PgMP3PYeLuKv4nuODzrYMzTgl9VkvqnMXDaY5lvwejNITFBib9AzTv/Ci\n"
	"vDfL2Nnd5VgkUTQzxjj3zLcldSGR8YEgeIknMBwQNRLu6wIPdHIuFJHUC2pdEjU6\n"
	"6YfPnbS78GCVSoYYMpcmtV2bNtW+PbIwxj6YJC6fpKSfchA/RfK/bHCgDObHHRdU\n"
	"/3QjuqLvtlrBXrOV0wi5xEtImGf3h8doQjiu2B/EoQKBgQD+ROV1xkSSUTYIc10p\n"
	"VgS9NanYI3mLRbIyk+7eK8V15/AQc9bwME3IUx8HRMJjSIUKGl6MxYz69SFQ91ye\n"
	"R7LPBQLZru0452lgWjkffqwDjI7JwPbhbt6/vIK5e/0SDsPdWDZAVRV7ItIAU2GL\n"
	"OQ8/zn/ZCwmbpL/kHI3U06tZKQKBgQDf7lkPmPv2+OSGViBSaj16spJKb0vPtNMY\n"
	"b/jFMqDFfX/0IoX0CBjzcpaLnCgtGy0utZrMaCXo02+emblYVx2x4KWNdly5NLD8\n"
	"RaBc+l6q+se/JSc865uqkg+ymLQQAofaPWbCV6L0/EGTgb9W6q6r2no2R5ea3/pJ\n"
	"XYFsFcBuDwKBgQD9cVb2acX3whMFoVf+18qpfk/pLJL+C15vo5y4vxB3UdSr0Ysw\n"
	"pjUhtBh9ej/4DlTtmRMdZdv8WVH4Dle3POgyCWCp8f5qdd9HNycxCWYTs4qv9zMd\n"
	"yREmNJRopfm+ghEhE8gfn69lqXOA95uG1j0o8H/mq2XMSg8rJHsK5GEq4QKBgAy+\n"
	"sg7zNBQAYnFK4ZgPN+SN2UmnP/dYYVNYvB3tHb1fwTKR7HHRLCpe8TaM8rRugYnR\n"
	"CDhuDQpNTmMGeMgQXT5MfN+qRui7mP8ir1fbYBv3HftBEBSljDyPB5mwmz72Belj\n"
	"6T9SYZHz8X+FuPAndz2Mt7vzIyvLZ6FZUw5lxof9AoGAR6NeAwg7/1oUm6N6XejY\n"
	"+NfLA1rWlJvoayNxVqTl2W4TcTLaT8UvDfk4d0A1iwHHtELReeXyq1JEvN+Iy2I9\n"
	"7yuGZSf425DJRF96gH9gj3oJCFGwNlFR4v5o2j79eu4Gd9yQetRXjdnqt3uMxP76\n"
	"pPtPfZTMc3WhlXRq6ezLYPA=\n"
	"-----END PRIVATE KEY-----\n";

static const char tpki_rsa_key_leaf[] =
	"-----BEGIN PRIVATE KEY-----\n"
	"MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC5VT7PA3QP+1jA\n"
	"cAwV2dRC85W7YVDC6NlM/FJ1u2tKbEtYxY9du4BZckbzNJLlNZnsY5BdoFhVGfFC\n"
	"b2kHxWTgHnRHnq78uYCElIGn6lEtULlSRAqbVj4SX//vZMJ3M3523v+Tr6d/cwz3\n"
	"gjN/AyCJ7tL0o/J8Zwl753sRauFnccrmsVNaEUBumFwFALyXmHg8V37Uiv2JdQFX\n"
	"0B6/C6P+YThgeSOFC+vqXModkGfJaHiYZJmyrgAnI5N2RKMPPXcPXQuIGxVYh212\n"
	"4qUf46pwOxZf9yhi1aY/Jm4jp54eT2pREMYr6tNV5Mp5QBzZVJikGXgF3LvLnPc4\n"
	"pGQB9i+dAgMBAAECggEAJpD+abo0ffnmIV9/qFFkugzx0OUilvi49WwBZdX7MOjB\n"
	"siakW5M/1X0yFfyP/+oMTpR2b4FFOGpWWeaQsukJAZlcxaWYEOeyPoSfyXc5bsZg\n"
	"ViXqFiKXdp/rBKBRVlhNHgPwJ8WzA5LHtT6vJCRcsk9UL0vpkykm4FWOdtSotKtu\n"
	"FvStWnMgIGmuWJc/ZKF4025qgsBufInum76qLjJmMrdbSKrr/M/zMsBTiMpJTky2\n"
	"qSPm9ZmZvDEcQj760liZy4SCiSAoFXLtG3ukCyJybDif8fb5EqAsbpT41zXuH6Uk\n"
	"LQpxe8mUHWChS/buUR7oZk7Be3SpFRjOYmCLMJXOQQKBgQD5s7+/dZQaRZ1SeMez\n"
	"qm0TIuJiKcO26jPbt9GS1gANa6Q0ocEaExpsrM4sB8Ece6l/N+7eF7cLDNQ/lE8g\n"
	"yQrHHDovshHp0Mv7Cjs1yT4vAVo5BibLTCiRlxezUKZ8YcGYNyVk5ro2ZKuoc6Hm\n"
	"VHC/qVn4Pbjw8E7kodLDvNG2XQKBgQC+AeJcw18sorBSeW0X0IDd4ZzVWe+ICoLg\n"
	"hievfU4gHl+NPGAqOZju6Z7GPC6RFIVcVUaQJQ435AVoHvYwJdZngjOY3wTfRPF7\n"
	"8XimvemzfaaNg6guxKsjAwaSAwCn/jiJPcGtxNWcbBUOPpXD5loL0V5DLdE3WJGb\n"
	"nMaDGgBKQQKBgQCWCqBpl2lK8BG8gL7fAsVP/mIxwg7MVqaanDXeGaEmb0vYJGo4\n"
	"FMqICr5ITtCHIPeUbjOmWHGwviC7o454kNVdF2UPS9zftosbaeZyR16KODHSmhOt\n"
	"jTHDahrfsNKZYtRFdr2Nh+bU0GElc3YRRSQKxuQ8+jmq7Xs6ftJ6s3cAMQKBgQCE\n"
	"nfAOataM4uhKSDIagw7Ozt+WEfWbcCq05y3f0Ies50Yt38wG7LiPWEPXfL3LyRTj\n"
	"wylDBnoMDHyxlZqjNGWXTUsSEebmpsodhgZ96uOowbRz5UaHjgEcqMn3M11L46Y2\n"
	"NAJwdIfba5yumoQRfT+wK+us29fA13KZuCzd6FH3gQKBgGTnd71FctCfWc1jwJ04\n"
	"/g9NJuI4TQxmQba51C0ktYbzuTh/6kuYpKxY9MQiIGRs/N2mC0VuFdf/4zq/fYz+\n"
	"sYFX5R1D/ZOUcpAqBlzGZPm03qfXyzuH8lak/JHNtEUm87Coit7RsdxfK/Q0FkAf\n"
	"AXVkYwM9OblD74tTemWGYrlm\n"
	"-----END PRIVATE KEY-----\n";

#endif
