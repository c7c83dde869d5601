#include "core/dialpeer.h"

#include <string.h>

#define REP_INF 255
#define SET_DIGITS 0x0fffu /* 0-9 * # */

static int char_bit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	return c == '*' ? 10 : c == '#' ? 11 : c == '+' ? 12 : -1;
}

/* "[...]" starting at text.p[i] == '['; returns the index after ']' or 0 on error */
static size_t parse_set(struct slice t, size_t i, uint16_t *set)
{
	bool neg = i + 1 < t.n && t.p[i + 1] == '^';
	uint16_t s = 0;
	size_t j = i + 1 + neg;
	for (; j < t.n && t.p[j] != ']'; j++) {
		int a = char_bit(t.p[j]);
		if (a < 0 || a > 11)
			return 0;
		int b = a;
		if (j + 2 < t.n && t.p[j + 1] == '-' && t.p[j + 2] != ']') {
			b = char_bit(t.p[j + 2]);
			if (b < a || b > 9)
				return 0;
			j += 2;
		}
		for (int k = a; k <= b; k++)
			s |= (uint16_t)(1u << k);
	}
	if (j >= t.n || s == 0)
		return 0;
	*set = neg ? (uint16_t)(SET_DIGITS & ~s) : s;
	return j + 1;
}

static int add_tok(struct core_dialpeer_pattern *p, uint16_t set, uint8_t kind)
{
	if (p->ntok == CORE_DIALPEER_MAX_TOKENS)
		return -1;
	p->tok[p->ntok++] = (struct core_dialpeer_tok){ set, 1, 1, kind };
	return 0;
}

/* a quantifier applies to the token before it */
static int quantify(struct core_dialpeer_pattern *p, char q)
{
	if (p->ntok == 0)
		return -1;
	struct core_dialpeer_tok *t = &p->tok[p->ntok - 1];
	if (t->min != 1 || t->max != 1)
		return -1;
	t->min = q == '+' ? 1 : 0;
	t->max = q == '?' ? 1 : REP_INF;
	p->variable = true;
	return 0;
}

int core_dialpeer_compile(struct slice t, struct core_dialpeer_pattern *p, size_t *err_at)
{
	memset(p, 0, sizeof(*p));
	size_t i = 0;
	if (slice_case_eq(t, SLICE_LIT("T"))) { /* a default route: any user part at all */
		p->any = true;
		p->variable = true;
		p->ntok = 1;
		return 0;
	}
	if (t.n && t.p[0] == '+') { /* E.164 plus */
		add_tok(p, 1u << 12, 0);
		i = 1;
	}
	for (; i < t.n; i++) {
		char c = t.p[i];
		int rc = 0, bit = char_bit(c);
		if (bit >= 0 && bit <= 11) {
			rc = add_tok(p, (uint16_t)(1u << bit), 0);
		} else if (c == '.') {
			rc = add_tok(p, SET_DIGITS, 1);
		} else if (c == '[') {
			uint16_t set;
			size_t next = parse_set(t, i, &set);
			rc = next ? add_tok(p, set, 1) : -1;
			if (next)
				i = next - 1;
		} else if (c == '%' || c == '?' || c == '+') {
			rc = quantify(p, c);
		} else if ((c == 'T' || c == 't') && i + 1 == t.n) {
			rc = add_tok(p, SET_DIGITS, 1);
			if (rc == 0)
				rc = quantify(p, '%');
		} else if (c == '$' && i + 1 == t.n) {
			rc = 0;
		} else {
			rc = -1;
		}
		if (rc < 0) {
			*err_at = i;
			return -1;
		}
	}
	if (p->ntok == 0) {
		*err_at = 0;
		return -1;
	}
	for (unsigned k = 0; k < p->ntok; k++) {
		if (p->tok[k].min == 0 && p->tok[k].max != 1)
			continue;
		if (p->tok[k].kind == 0) {
			p->literals++;
		} else {
			p->sets++;
			p->width += (uint16_t)__builtin_popcount(p->tok[k].set);
		}
	}
	return 0;
}

/* Set-of-positions matching (no backtracking): a hostile user part cannot make a pattern with
 * several variable elements cost more than tokens x length^2 steps. */
#define USER_MAX 128

static bool tok_has(const struct core_dialpeer_tok *t, char c)
{
	int b = char_bit(c);
	return b >= 0 && (t->set & (1u << b));
}

bool core_dialpeer_match(const struct core_dialpeer_pattern *p, struct slice user)
{
	bool cur[USER_MAX + 1] = { true }, nxt[USER_MAX + 1];
	if (p->any)
		return true;
	if (p->ntok == 0 || user.n > USER_MAX)
		return false;
	for (unsigned i = 0; i < p->ntok; i++) {
		const struct core_dialpeer_tok *t = &p->tok[i];
		bool any = false;
		memset(nxt, 0, sizeof(nxt));
		for (size_t pos = 0; pos <= user.n; pos++) {
			if (!cur[pos])
				continue;
			for (size_t r = 0;; r++) {
				if (r >= t->min) {
					nxt[pos + r] = true;
					any = true;
				}
				if ((t->max != REP_INF && r == t->max) || pos + r == user.n ||
				    !tok_has(t, user.p[pos + r]))
					break;
			}
		}
		if (!any)
			return false;
		memcpy(cur, nxt, sizeof(cur));
	}
	return cur[user.n];
}

int core_dialpeer_cmp(const struct core_dialpeer_pattern *a, const struct core_dialpeer_pattern *b)
{
	if (a->literals != b->literals)
		return a->literals > b->literals ? 1 : -1;
	if (a->sets != b->sets)
		return a->sets > b->sets ? 1 : -1;
	if (a->width != b->width) /* [4-5] admits fewer digits than '.' */
		return a->width < b->width ? 1 : -1;
	if (a->variable != b->variable)
		return a->variable ? -1 : 1;
	return 0;
}

static bool better(const struct core_dialpeer *a, const struct core_dialpeer *b)
{
	int c = core_dialpeer_cmp(&a->pattern, &b->pattern);
	if (c)
		return c > 0;
	if (a->preference != b->preference)
		return a->preference < b->preference;
	return a->tag < b->tag;
}

const struct core_dialpeer *core_dialpeer_select(const struct core_dialpeer *peers, size_t n,
						 struct slice user)
{
	const struct core_dialpeer *best = NULL;
	for (size_t i = 0; i < n; i++)
		if (core_dialpeer_match(&peers[i].pattern, user) && (!best || better(&peers[i], best)))
			best = &peers[i];
	return best;
}
