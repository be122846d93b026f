/*
 * classify.c - Robinson-Fisher scoring over token counts (see classify.h
 * for the model).  The chi-square tails are computed as logarithms: a
 * long spam drives Fisher's statistic so far that its tail probability
 * underflows, and bogofilter then prints a flat 1.000000 for thousands of
 * messages, which costs ranking quality (ties).  Working with ln Q and
 * ln(1 - Q) keeps every message distinct.
 */
#include <math.h>

#include "agent/classify.h"

void
classify_defaults(struct classify_params *p)
{
	p->robs = 0.1;
	p->robx = 0.52;
	p->min_dev = 0.375;
	p->eta = 0.03;
	p->lr_weight = 1.0;
	p->spread = 3.0;
	p->spam_cut = CLASSIFY_SPAM_CUT;
	p->ham_cut = 0.5;
}

double
classify_token(const struct classify_params *p, uint32_t spam, uint32_t ham,
    uint32_t nspam, uint32_t nham)
{
	double bs, gh, pw, n = (double)spam + (double)ham;

	if (n == 0)
		return p->robx;
	bs = (double)spam / (nspam > 0 ? nspam : 1);
	gh = (double)ham / (nham > 0 ? nham : 1);
	pw = bs / (bs + gh);
	return (p->robs * p->robx + n * pw) / (p->robs + n);
}

int
classify_significant(const struct classify_params *p, double f)
{
	return fabs(f - 0.5) >= p->min_dev;
}

/* ln(e^a + e^b), exact for infinities. */
static double
log_add(double a, double b)
{
	double hi = a > b ? a : b, lo = a > b ? b : a;

	if (hi == -INFINITY)
		return -INFINITY;
	return hi + log1p(exp(lo - hi));
}

/* ln Q and ln(1 - Q) for the chi-square upper tail Q(x | 2k degrees of
 * freedom) = e^-m * sum_{i<k} m^i / i!, m = x / 2. */
static void
chi2_tails(double x, size_t k, double *lnq_r, double *lnp_r)
{
	double m = x / 2, lnm, term = 0, lnq = -INFINITY, lnp = -INFINITY;
	size_t i, limit;

	if (m <= 0) {
		*lnq_r = 0;
		*lnp_r = -INFINITY;
		return;
	}
	lnm = log(m);
	for (i = 0; i < k; i++) {		/* term = i ln m - ln i! */
		if (i > 0)
			term += lnm - log((double)i);
		lnq = log_add(lnq, term);
	}
	lnq -= m;
	if (lnq > 0)
		lnq = 0;
	if (lnq < -0.7) {
		*lnq_r = lnq;
		*lnp_r = log1p(-exp(lnq));
		return;
	}
	/* Q is large, so m < k roughly and the terms from i = k on fall
	 * off quickly: sum them directly for an exact small 1 - Q. */
	limit = k + 200 + (size_t)(20 * sqrt((double)k + m));
	for (i = k; i < limit; i++) {
		if (i > 0)
			term += lnm - log((double)i);
		lnp = log_add(lnp, term);
		if ((double)i > m && term - lnp < -40)
			break;
	}
	*lnq_r = lnq;
	*lnp_r = lnp - m;
}

/* Beyond 16 (probabilities within 1e-7 of 0 or 1) log-odds grow only
 * logarithmically: more evidence still ranks higher, but no one
 * overwhelming term decides alone, and the logistic never rounds to
 * exactly 0 or 1 in double precision. */
static double
compress(double logit)
{
	double mag = fabs(logit);

	if (isnan(mag))
		return 0;
	if (mag > 16)
		mag = 16 + log(mag - 15);
	return logit < 0 ? -mag : mag;
}

double
classify_chi(const struct classify_params *p, const double *f, size_t n)
{
	double a = 0, b = 0, lnqa, lnpa, lnqb, lnpb, robinson, balance;
	size_t used = 0;

	for (size_t i = 0; i < n; i++) {
		double fi = f[i];
		if (!classify_significant(p, fi))
			continue;
		/* Counts of 0 give f of exactly 0 or 1 only when s = 0. */
		if (fi < 1e-9)
			fi = 1e-9;
		if (fi > 1 - 1e-9)
			fi = 1 - 1e-9;
		a -= 2 * log(fi);
		b -= 2 * log1p(-fi);
		used++;
	}
	if (used == 0)
		return 0;
	chi2_tails(a, used, &lnqa, &lnpa);
	chi2_tails(b, used, &lnqb, &lnpb);
	/* Robinson's I = (1 + Qa - Qb) / 2 = (Qa + Pb) / 2, and
	 * 1 - I = (Pa + Qb) / 2: its log-odds without cancellation.  I stays
	 * near 0.5 whenever both tests find something, so on its own it
	 * cannot tell a message with a little ham evidence and overwhelming
	 * spam evidence from a truly mixed one. */
	robinson = compress(log_add(lnqa, lnpb) - log_add(lnpa, lnqb));
	/* Half the difference of the two one-sided tests' log-odds: which
	 * side's evidence is stronger, and by how much. */
	balance = ((lnpb - lnqb) - (lnpa - lnqa)) / 2;
	/* Compressed again, so that the regression keeps a say however
	 * long the message. */
	return compress(robinson + balance);
}

double
classify_score(const struct classify_params *p, double chi, double z,
    uint32_t nspam, uint32_t nham)
{
	double logit = compress((chi + p->lr_weight * z) / p->spread);

	if (nspam == 0 || nham == 0)	/* nothing to compare with yet */
		return 0.5;
	return 1 / (1 + exp(-logit));
}

int64_t
classify_update(const struct classify_params *p, double z, int is_spam)
{
	double zz = z > 30 ? 30 : z < -30 ? -30 : z;
	double prob = 1 / (1 + exp(-zz));

	return llround(p->eta * ((is_spam ? 1 : 0) - prob) *
	    CLASSIFY_WEIGHT_SCALE);
}

int
classify_verdict(const struct classify_params *p, double score)
{
	if (score >= p->spam_cut)
		return 2;
	if (score < p->ham_cut)
		return 0;
	return 1;
}
