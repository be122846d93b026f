/*
 * classify.h - the model: pure arithmetic from token counts to a score.
 * No I/O, no state: the same counts always give the same score, which is
 * what makes training and untraining exact inverses (they only move
 * counts) and lets --explain name counts a user understands.
 *
 * Two views of the same features, added as log-odds:
 *
 * - Generative, from counts: per token, Robinson's smoothed probability
 *   that a message containing it is spam, f(w) = (s*x + n*p(w)) / (s + n),
 *   where p(w) compares the token's share of spam to its share of ham and
 *   n is how often it was seen.  Tokens close to 0.5 (|f - 0.5| < min_dev)
 *   are left out; the rest go into Fisher's chi-square test both ways, as
 *   in bogofilter.  Two statistics of those tests are added: Robinson's
 *   indicator I (its log-odds, compressed beyond 16), and half the
 *   difference of the two tests' own log-odds.  I alone stays near 0.5
 *   whenever both sides have some evidence; the difference says which
 *   side is stronger.  Everything is computed in log space, so confident
 *   messages still rank against each other instead of rounding to 0 or 1.
 * - Discriminative: online logistic regression over the same binary
 *   features (the strongest filters of the TREC spam tracks), weights in
 *   fixed point so that an update and its reversal cancel exactly.  It
 *   learns which correlated features matter, where the counts over-count.
 *
 * The score is the logistic of the sum divided by spread = 3: log-odds
 * summed over hundreds of correlated features overstate the evidence, and
 * undivided, almost every message would score within 1e-6 of 0 or 1, which
 * leaves nothing for score thresholds (Sieve's spamtest, the verdict cut)
 * to work with.  With 3, the 0.999 spam cut is where the raw sum gives
 * odds of a billion to one.  The score stays strictly monotone beyond
 * double precision (see classify_score).
 */
#ifndef MAILSIFT_CLASSIFY_H
#define MAILSIFT_CLASSIFY_H

#include <stddef.h>
#include <stdint.h>

/* Logistic-regression weights are stored as integers in units of
 * 1 / CLASSIFY_WEIGHT_SCALE. */
#define CLASSIFY_WEIGHT_SCALE 1048576.0

struct classify_params {
	double robs;		/* s: weight of the prior x, in messages */
	double robx;		/* x: f of a token never seen */
	double min_dev;		/* tokens with |f - 0.5| below this are
				 * ignored */
	double eta;		/* logistic regression learning rate */
	double lr_weight;	/* weight of its log-odds in the sum */
	double spread;		/* the sum is divided by this (below) */
	double spam_cut;	/* score >= spam_cut: spam */
	double ham_cut;		/* score < ham_cut: ham; else unsure */
};

/* The default spam cut (config.c's default spam_threshold too): a good
 * message in Junk costs the owner more than a spam left in the inbox,
 * tagged unsure.  Chosen on the SpamAssassin corpus replayed in nine
 * views (online, split and corrections, each in three orders: the
 * harness's and seeds 7 and 11; tests/bench/replay): at 0.99 the false
 * positives were 0.14-0.17% (online), 0.14-0.29% (split), 0.29-0.32%
 * (corrections), the missed spam 4.3-10.3%; at 0.999 they are
 * 0.02-0.07%, 0.05-0.19% and 0.19-0.27%, missed 7.2-15.8%; at 0.9995
 * the false positives fall only to 0-0.02%, 0-0.19% and 0.13-0.21%
 * (in corrections more spam then goes through the owner's hands and is
 * learned, which lifts ham scores too) while 11-25% of spam is missed. */
#define CLASSIFY_SPAM_CUT 0.999

/* The defaults: bogofilter's published x = 0.52 and min_dev = 0.375, and
 * s = 0.1 (bogofilter's 0.0178 makes a token seen once all but certain);
 * eta = 0.03 (TREC's logistic regression used 0.002 per byte 4-gram, some
 * 3000 of them per message; ours are some 500 words and pairs), the two
 * views weighted alike, spread 3; ham below 0.5 (bogofilter's cut), spam
 * at CLASSIFY_SPAM_CUT or more. */
void classify_defaults(struct classify_params *p);

/* f(w) for a token seen in spam spam messages and ham ham messages, when
 * nspam spam and nham ham messages were trained in all. */
double classify_token(const struct classify_params *p, uint32_t spam,
    uint32_t ham, uint32_t nspam, uint32_t nham);

/* 1 if a token of probability f takes part in the score. */
int classify_significant(const struct classify_params *p, double f);

/* The chi-square log-odds (see above) of the n token probabilities f[]
 * (tokens that are not significant are skipped); 0 without evidence,
 * positive for spam. */
double classify_chi(const struct classify_params *p, const double *f,
    size_t n);

/* The score in [0,1] from the chi-square log-odds, the regression's
 * log-odds z (bias plus the weights of the features present) and the
 * numbers of trained messages: 0.5 until both classes were trained, and
 * without evidence; else strictly monotone in the evidence, never
 * exactly 0 or 1. */
double classify_score(const struct classify_params *p, double chi, double z,
    uint32_t nspam, uint32_t nham);

/* The regression update for a message of log-odds z learned as spam or
 * ham, in weight units: added to the bias and to each feature present
 * when training, subtracted when untraining. */
int64_t classify_update(const struct classify_params *p, double z,
    int is_spam);

/* 2 spam, 1 unsure, 0 ham (the values of enum verdict in filter.h). */
int classify_verdict(const struct classify_params *p, double score);

#endif
