/*
 * date.c - dates for the date and currentdate tests (RFC 5260): reading
 * a header's date the way Dovecot does (RFC 5322 with the obsolete forms
 * mail still carries: two-digit years, zone names, no seconds, no zone),
 * and writing the date parts a script compares.
 *
 * Where the RFC leaves room, Pigeonhole 0.5.19 decides (measured with
 * its sieve-test): a year below 70 is 20xx, a missing or unknown zone
 * is +0000, an impossible date (31 February, hour 25) is no date, the
 * Received header's date follows its last ';'.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/xmem.h"
#include "sieve/sieve_int.h"

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static long
days_from_civil(long y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long z, long *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int
days_in_month(long y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

static const char *const months[] = { "jan", "feb", "mar", "apr", "may",
	"jun", "jul", "aug", "sep", "oct", "nov", "dec" };
static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	"Fri", "Sat" };

static const char *
skip_cfws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		for (int depth = 0; *p; p++) {
			if (*p == '(')
				depth++;
			else if (*p == ')' && --depth == 0) {
				p++;
				break;
			}
		}
	}
}

static int
read_num(const char **pp, int maxdigits, long *v)
{
	const char *p = *pp;
	int n = 0;

	*v = 0;
	while (isdigit((unsigned char)*p) && n < maxdigits) {
		*v = *v * 10 + (*p - '0');
		p++;
		n++;
	}
	*pp = p;
	return n;
}

/* Zone names of RFC 5322 4.3 in minutes east; others (military
 * letters, unknown names) are +0000. */
static int
zone_name(const char *p, size_t len)
{
	static const struct {
		const char *name;
		int min;
	} z[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "EST", -300 }, { "EDT", -240 },
		{ "CST", -360 }, { "CDT", -300 }, { "MST", -420 },
		{ "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
	};

	for (size_t i = 0; i < sizeof(z) / sizeof(z[0]); i++)
		if (strlen(z[i].name) == len &&
		    strncasecmp(p, z[i].name, len) == 0)
			return z[i].min;
	return 0;
}

int
sv_zone_parse(const char *s, int *min_r)
{
	long hh, mm;
	const char *p = s + 1;

	if ((s[0] != '+' && s[0] != '-') || read_num(&p, 2, &hh) != 2 ||
	    read_num(&p, 2, &mm) != 2 || *p != '\0' || mm > 59)
		return -1;
	*min_r = (int)((s[0] == '-' ? -1 : 1) * (hh * 60 + mm));
	return 0;
}

int
sv_date_parse(const char *value, int received, struct sv_date *d)
{
	const char *p = value, *semi;
	long day, year, hh, mm, ss = 0, zone;
	int mon, ndigits;

	if (received) {
		if ((semi = strrchr(value, ';')) == NULL)
			return -1;
		p = semi + 1;
	}
	p = skip_cfws(p);
	if (isalpha((unsigned char)*p)) {	/* day of week */
		while (isalpha((unsigned char)*p))
			p++;
		p = skip_cfws(p);
		if (*p != ',')
			return -1;
		p = skip_cfws(p + 1);
	}
	if (read_num(&p, 2, &day) == 0)
		return -1;
	p = skip_cfws(p);
	for (mon = 0; mon < 12; mon++)
		if (strncasecmp(p, months[mon], 3) == 0)
			break;
	if (mon == 12)
		return -1;
	p = skip_cfws(p + 3);
	ndigits = read_num(&p, 4, &year);
	if (ndigits == 2)
		year += year < 70 ? 2000 : 1900;
	else if (ndigits != 4)
		return -1;
	p = skip_cfws(p);
	if (read_num(&p, 2, &hh) == 0 || *p++ != ':' ||
	    read_num(&p, 2, &mm) == 0)
		return -1;
	if (*p == ':' && (p++, read_num(&p, 2, &ss)) == 0)
		return -1;
	p = skip_cfws(p);
	if (*p == '+' || *p == '-') {
		long zh;
		const char *q = p + 1;

		if (read_num(&q, 4, &zh) != 4)
			return -1;
		zone = (*p == '-' ? -1 : 1) * ((zh / 100) * 60 + zh % 100);
	} else {
		size_t len = 0;

		while (isalpha((unsigned char)p[len]))
			len++;
		zone = zone_name(p, len);
	}
	if (day < 1 || day > days_in_month(year, mon + 1) || hh > 23 ||
	    mm > 59 || ss > 60)
		return -1;
	d->t = (long long)days_from_civil(year, mon + 1, (int)day) * 86400 +
	    hh * 3600 + mm * 60 + ss - zone * 60;
	d->zone = (int)zone;
	return 0;
}

static void
zone_text(int min, char out[8])
{
	int a = min < 0 ? -min : min;

	snprintf(out, 8, "%c%02d%02d", min < 0 ? '-' : '+', a / 60 % 100,
	    a % 60);
}

char *
sv_date_part(const struct sv_date *d, int zone, const char *part)
{
	long long local = d->t + (long long)zone * 60;
	long long days = local >= 0 ? local / 86400 :
	    -((-local + 86399) / 86400);
	long secs = (long)(local - days * 86400), y;
	int m, dd, hh = (int)(secs / 3600), mi = (int)(secs / 60 % 60);
	int ss = (int)(secs % 60), wd = (int)(((days % 7) + 11) % 7);
	char z[8];

	civil_from_days((long)days, &y, &m, &dd);
	zone_text(zone, z);
	if (strcasecmp(part, "year") == 0)
		return xasprintf("%04ld", y);
	if (strcasecmp(part, "month") == 0)
		return xasprintf("%02d", m);
	if (strcasecmp(part, "day") == 0)
		return xasprintf("%02d", dd);
	if (strcasecmp(part, "date") == 0)
		return xasprintf("%04ld-%02d-%02d", y, m, dd);
	if (strcasecmp(part, "julian") == 0)	/* days since 1858-11-17 */
		return xasprintf("%lld", days + 40587);
	if (strcasecmp(part, "hour") == 0)
		return xasprintf("%02d", hh);
	if (strcasecmp(part, "minute") == 0)
		return xasprintf("%02d", mi);
	if (strcasecmp(part, "second") == 0)
		return xasprintf("%02d", ss);
	if (strcasecmp(part, "time") == 0)
		return xasprintf("%02d:%02d:%02d", hh, mi, ss);
	if (strcasecmp(part, "iso8601") == 0) {
		if (zone == 0)
			return xasprintf("%04ld-%02d-%02dT%02d:%02d:%02dZ", y,
			    m, dd, hh, mi, ss);
		return xasprintf("%04ld-%02d-%02dT%02d:%02d:%02d%.3s:%s", y,
		    m, dd, hh, mi, ss, z, z + 3);
	}
	if (strcasecmp(part, "std11") == 0) {
		char mon[4];

		snprintf(mon, sizeof(mon), "%s", months[m - 1]);
		mon[0] = (char)toupper((unsigned char)mon[0]);
		return xasprintf("%s, %02d %s %04ld %02d:%02d:%02d %s",
		    wdays[wd], dd, mon, y, hh, mi, ss, z);
	}
	if (strcasecmp(part, "zone") == 0)
		return xstrdup(z);
	if (strcasecmp(part, "weekday") == 0)
		return xasprintf("%d", wd);
	return NULL;
}
