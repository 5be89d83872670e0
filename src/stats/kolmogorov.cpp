#include "stats/kolmogorov.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <numbers>
#include <vector>

#include "util/parallel.hpp"

namespace mloop::stats {

namespace {

constexpr double k_pi = std::numbers::pi;
constexpr int k_e128 = 128;
const long double k_ep128 = std::ldexp(1.0L, k_e128);
const long double k_em128 = std::ldexp(1.0L, -k_e128);
// cephes' MINLOG, log(2**-1075)
constexpr double k_minlog = -7.451332191019412076235E2;

double clip01(double p) {
    return std::clamp(p, 0.0, 1.0);
}

// A sum kept as sum * e^shift: the Smirnov terms can lie far below the smallest double.
struct ScaledSum {
    long double sum = 0;
    long double shift = 0;
};

// Fewer terms than this are summed on the caller's thread.
constexpr int64_t k_parallel_terms = 20000;

// Terms v in [lo, hi) of the sum below, C(n,v) (1-x-v/n)^(n-v) (x+v/n)^(v-1), from hi - 1 down.
// Each term's logarithm is exact to the x87 type's last bits (its parts are of the order of n and
// cancel); the term itself is a double, scaled by the first term's size. The terms rise to one
// peak and fall away from it, so the walk stops, as SciPy's does, at a term so small that all
// those left could not reach the sum's last bit; for small x the peak is at the top end, which
// is why the walk goes down (SciPy walks up and sums every term there).
ScaledSum smirnov_terms(int64_t n, long double lx, int64_t lo, int64_t hi) {
    ScaledSum s;
    if (hi <= lo) {
        return s;
    }
    const auto ln = static_cast<long double>(n);
    int64_t v = hi - 1;
    int sign = 0;
    // log C(n, v) = log_c + log(ratio): a step down multiplies the ratio by v / (n - v + 1),
    // and every k_anchor steps its logarithm moves into log_c (a log every 32 terms instead of
    // every term).
    constexpr int k_anchor = 32;
    long double log_c = ::lgammal_r(ln + 1, &sign) -
                        ::lgammal_r(static_cast<long double>(v) + 1, &sign) -
                        ::lgammal_r(static_cast<long double>(n - v) + 1, &sign);
    long double ratio = 1;
    int steps = 0;
    bool first = true;
    for (; v >= lo; --v) {
        const auto lv = static_cast<long double>(v);
        const auto lnv = static_cast<long double>(n - v);
        const long double log_term =
            log_c + lnv * std::log(lnv / ln - lx) + (lv - 1) * std::log(lx + lv / ln);
        if (first) {
            s.shift = log_term;
            first = false;
        }
        auto e = static_cast<double>(log_term - s.shift);
        if (e > 512) {  // rising: rescale before a double overflows
            s.sum *= std::exp(s.shift - log_term);
            s.shift = log_term;
            e = 0;
        }
        // Below e^-745 (and the ratio at most n^32) a term is lost beside the first, which is 1.
        const long double term = ratio * std::exp(e);
        s.sum += term;
        if (4 * static_cast<long double>(v - lo) * term < DBL_EPSILON * s.sum) {
            break;
        }
        ratio *= lv / (ln - lv + 1);
        if (++steps == k_anchor) {
            log_c += std::log(ratio);
            ratio = 1;
            steps = 0;
        }
    }
    return s;
}

// ---------------------------------------------------------------------------------------
// One-sided: scipy.special.smirnov, the lower sum of Smirnov/Birnbaum-Tingey,
//   Pr(D+_n >= x) = x * sum_{v=0}^{floor(n(1-x))} C(n,v) (1-x-v/n)^(n-v) (x+v/n)^(v-1).
// SciPy switches to the upper sum only for x <= 1/n-ish arguments that kstwo never passes.

double smirnov_impl(int64_t n, double x) {
    if (!(n > 0 && x >= 0.0 && x <= 1.0)) {
        return NAN;
    }
    if (n == 1) {
        return 1 - x;
    }
    if (x == 0.0) {
        return 1.0;
    }
    if (x == 1.0) {
        return 0.0;
    }
    const auto dn = static_cast<double>(n);
    // floor(n x) and its remainder, exactly (SciPy's modNX in double-double).
    const double nx_hi = dn * x;
    const double nx_lo = std::fma(dn, x, -nx_hi);
    double fl = std::floor(nx_hi);
    if (fl == nx_hi && nx_lo < 0) {
        fl -= 1;
    }
    double alpha = (nx_hi - fl) + nx_lo;
    if (alpha >= 1) {
        fl += 1;
        alpha = 0;
    }
    const auto nxfl = static_cast<int64_t>(fl);
    int64_t n1mxfl = n - nxfl - (alpha == 0 ? 0 : 1);
    if (alpha == 0) {
        n1mxfl -= 1;
    }
    const long double lx = x;
    if (nxfl == 0 || (nxfl == 1 && alpha == 0)) {
        const long double t = std::pow(1.0L + lx, static_cast<long double>(n - 1));
        return clip01(static_cast<double>(1.0L - lx * t));
    }
    if (-2 * dn * x * x < k_minlog) {
        return 0.0;
    }
    if (nxfl >= n - 1) {
        return clip01(static_cast<double>(std::pow(1.0L - lx, static_cast<long double>(n))));
    }
    if (n > 1000000) {
        // SciPy's SMIRNOV_MAX_COMPUTE_N: p ~ e^(-(6nx+1)^2 / 18n)
        const double logp = -std::pow(6.0 * dn * x + 1, 2) / 18.0 / dn;
        if (logp < -std::numbers::ln2) {
            return clip01(std::exp(logp));
        }
        return clip01(1 - (-std::expm1(logp)));
    }
    // Terms 1 … n_terms - 1 in two halves on both cores when there are enough of them.
    const int64_t n_terms = n1mxfl + 1;
    const long double ln = static_cast<long double>(n);
    // Term 0: (1-x)^n / x
    long double sum = std::exp(ln * std::log1p(-lx) - std::log(lx));
    ScaledSum lower;
    ScaledSum upper;
    if (n_terms >= k_parallel_terms) {
        const int64_t mid = (n_terms + 1) / 2;
        util::run_both([&] { lower = smirnov_terms(n, lx, 1, mid); },
                       [&] { upper = smirnov_terms(n, lx, mid, n_terms); });
    } else {
        upper = smirnov_terms(n, lx, 1, n_terms);
    }
    for (const ScaledSum& half : {lower, upper}) {
        if (half.sum != 0) {
            sum += half.sum * std::exp(half.shift);
        }
    }
    return clip01(static_cast<double>(lx * sum));
}

// ---------------------------------------------------------------------------------------
// Two-sided: scipy.stats._ksstats

double log_nfactorial_div_n_pow_n(double n) {
    static constexpr double k_stirling[] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                            -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                            -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                            -2.7777777777777777778e-3, 8.3333333333333333333e-2};
    const double rn = 1.0 / n;
    const double z = rn / n;
    double poly = 0.0;
    for (const double c : k_stirling) {
        poly = poly * z + c;
    }
    return std::log(n) / 2 - n + std::log(2 * k_pi) / 2 + rn * poly;
}

using Matrix = std::vector<double>;  // row-major m x m

Matrix matmul(const Matrix& a, const Matrix& b, int m) {
    Matrix c(static_cast<size_t>(m) * m, 0.0);
    for (int i = 0; i < m; ++i) {
        for (int l = 0; l < m; ++l) {
            const double ail = a[static_cast<size_t>(i) * m + l];
            if (ail == 0.0) {
                continue;
            }
            const double* brow = &b[static_cast<size_t>(l) * m];
            double* crow = &c[static_cast<size_t>(i) * m];
            for (int j = 0; j < m; ++j) {
                crow[j] += ail * brow[j];
            }
        }
    }
    return c;
}

// Pr(D_n <= d) by Durbin's matrix, as Marsaglia, Tsang and Wang compute it. Long double
// where NumPy's arithmetic becomes long double (after a rescale by SciPy's 2**128 constant).
long double kolmogn_dmtw_cdf(int64_t n, double d) {
    if (d >= 1.0) {
        return 1.0;
    }
    const double nd = static_cast<double>(n) * d;
    if (nd <= 0.5) {
        return 0.0;
    }
    const int k = static_cast<int>(std::ceil(nd));
    const double h = k - nd;
    const int m = 2 * k - 1;
    const auto at = [m](int r, int c) {
        return static_cast<size_t>(r) * m + c;
    };

    std::vector<double> v(m), w(m);
    double fac = 1.0;
    for (int j = 1; j <= m; ++j) {
        v[j - 1] = 1.0 - std::pow(h, j);
        w[j - 1] = fac;
        fac /= j;
        v[j - 1] *= fac;
    }
    const double tt = std::pow(std::max(2 * h - 1.0, 0.0), m) - 2 * std::pow(h, m);
    v[m - 1] = (1.0 + tt) * fac;

    Matrix hm(static_cast<size_t>(m) * m, 0.0);
    for (int i = 1; i < m; ++i) {
        for (int r = i - 1; r < m; ++r) {
            hm[at(r, i)] = w[r - (i - 1)];
        }
    }
    for (int r = 0; r < m; ++r) {
        hm[at(r, 0)] = v[r];
    }
    for (int c = 0; c < m; ++c) {
        hm[at(m - 1, c)] = v[m - 1 - c];
    }

    Matrix hpwr(static_cast<size_t>(m) * m, 0.0);
    for (int i = 0; i < m; ++i) {
        hpwr[at(i, i)] = 1.0;
    }
    int64_t nn = n;
    int64_t expnt = 0;
    int64_t hexpnt = 0;
    while (nn > 0) {
        if (nn % 2 != 0) {
            hpwr = matmul(hpwr, hm, m);
            expnt += hexpnt;
        }
        hm = matmul(hm, hm, m);
        hexpnt *= 2;
        if (std::abs(hm[at(k - 1, k - 1)]) > k_ep128) {
            for (double& x : hm) {
                x = static_cast<double>(x / k_ep128);
            }
            hexpnt += k_e128;
        }
        nn /= 2;
    }

    // NumPy turns p into a long double at the first rescale; so does this.
    double p = hpwr[at(k - 1, k - 1)];
    long double pl = 0;
    bool wide = false;
    const auto dn = static_cast<double>(n);
    for (int64_t i = 1; i <= n; ++i) {
        if (!wide) {
            p = static_cast<double>(i) * p / dn;
            if (std::abs(p) < k_em128) {
                pl = p * k_ep128;
                wide = true;
                expnt -= k_e128;
            }
        } else {
            pl = static_cast<long double>(i) * pl / dn;
            if (std::abs(pl) < k_em128) {
                pl *= k_ep128;
                expnt -= k_e128;
            }
        }
    }
    long double result = wide ? pl : p;
    if (expnt != 0) {
        result = std::ldexp(result, static_cast<int>(expnt));
    }
    return std::clamp(result, 0.0L, 1.0L);
}

void pomeranz_j1j2(int64_t i, int64_t n, int64_t ll, int ceilf, int roundf, int64_t& j1,
                   int64_t& j2) {
    int64_t a;
    int64_t b;
    if (i == 0) {
        a = -ll - ceilf - 1;
        b = ll + ceilf - 1;
    } else {
        const int64_t ip1div2 = (i + 1) / 2;
        const int64_t ip1mod2 = (i + 1) % 2;
        if (ip1mod2 == 0) {
            if (ip1div2 == n + 1) {
                a = n - ll - ceilf - 1;
                b = n + ll + ceilf - 1;
            } else {
                a = ip1div2 - 1 - ll - roundf - 1;
                b = ip1div2 + ll - 1 + ceilf - 1;
            }
        } else {
            a = ip1div2 - 1 - ll - 1;
            b = ip1div2 + ll + roundf - 1;
        }
    }
    j1 = std::max<int64_t>(a + 2, 0);
    j2 = std::min<int64_t>(b, n);
}

// Pr(D_n <= x) by Pomeranz's recursion.
long double kolmogn_pomeranz_cdf(int64_t n, double x) {
    const auto dn = static_cast<double>(n);
    const double t = dn * x;
    const auto ll = static_cast<int64_t>(std::floor(t));
    const double f = t - static_cast<double>(ll);
    const double g = std::min(f, 1.0 - f);
    const int ceilf = f > 0 ? 1 : 0;
    const int roundf = f > 0.5 ? 1 : 0;
    const auto npwrs = static_cast<size_t>(2 * (ll + 1));
    std::vector<double> gpower(npwrs), twogpower(npwrs), onem2gpower(npwrs);
    gpower[0] = twogpower[0] = onem2gpower[0] = 1.0;
    const double g_over_n = g / dn;
    const double two_g_over_n = 2 * g / dn;
    const double one_minus_two_g_over_n = (1 - 2 * g) / dn;
    for (size_t m = 1; m < npwrs; ++m) {
        gpower[m] = gpower[m - 1] * g_over_n / static_cast<double>(m);
        twogpower[m] = twogpower[m - 1] * two_g_over_n / static_cast<double>(m);
        onem2gpower[m] = onem2gpower[m - 1] * one_minus_two_g_over_n / static_cast<double>(m);
    }
    std::vector<double> v0(npwrs, 0.0), v1(npwrs, 0.0), conv;
    v1[0] = 1;
    int64_t v0s = 0;
    int64_t v1s = 0;
    int64_t expnt = 0;
    int64_t j1;
    int64_t j2;
    pomeranz_j1j2(0, n, ll, ceilf, roundf, j1, j2);
    for (int64_t i = 1; i < 2 * n + 2; ++i) {
        const int64_t k1 = j1;
        std::swap(v0, v1);
        std::swap(v0s, v1s);
        std::fill(v1.begin(), v1.end(), 0.0);
        pomeranz_j1j2(i, n, ll, ceilf, roundf, j1, j2);
        const std::vector<double>& pwrs =
            (i == 1 || i == 2 * n + 1) ? gpower : (i % 2 != 0 ? twogpower : onem2gpower);
        const int64_t ln2 = j2 - k1 + 1;
        if (ln2 > 0) {
            // np.convolve(V0[k1-V0s : k1-V0s+ln2], pwrs[:ln2]), slices clipped like Python's
            const int64_t a0 = std::max<int64_t>(k1 - v0s, 0);
            const int64_t a1 = std::min<int64_t>(k1 - v0s + ln2, static_cast<int64_t>(npwrs));
            const int64_t la = std::max<int64_t>(a1 - a0, 0);
            const int64_t lb = std::min<int64_t>(ln2, static_cast<int64_t>(npwrs));
            conv.assign(static_cast<size_t>(std::max<int64_t>(la + lb - 1, 0)), 0.0);
            for (int64_t p = 0; p < la; ++p) {
                const double vp = v0[static_cast<size_t>(a0 + p)];
                for (int64_t q = 0; q < lb; ++q) {
                    conv[static_cast<size_t>(p + q)] += vp * pwrs[static_cast<size_t>(q)];
                }
            }
            const int64_t conv_start = j1 - k1;
            const int64_t conv_len = j2 - j1 + 1;
            for (int64_t c = 0; c < conv_len; ++c) {
                const int64_t src = conv_start + c;
                if (src >= 0 && src < static_cast<int64_t>(conv.size()) &&
                    c < static_cast<int64_t>(npwrs)) {
                    v1[static_cast<size_t>(c)] = conv[static_cast<size_t>(src)];
                }
            }
            const double vmax = *std::max_element(v1.begin(), v1.end());
            if (0 < vmax && vmax < k_em128) {
                for (double& e : v1) {
                    e = static_cast<double>(e * k_ep128);
                }
                expnt -= k_e128;
            }
            v1s = v0s + j1 - k1;
        }
    }
    double ans = v1[static_cast<size_t>(n - v1s)];
    long double ans_l = 0;
    bool wide = false;
    for (int64_t m = 1; m <= n; ++m) {
        if (!wide && std::abs(ans) > k_ep128) {
            ans_l = ans * k_em128;
            wide = true;
            expnt += k_e128;
        } else if (wide && std::abs(ans_l) > k_ep128) {
            ans_l *= k_em128;
            expnt += k_e128;
        }
        if (wide) {
            ans_l *= static_cast<long double>(m);
        } else {
            ans *= static_cast<double>(m);
        }
    }
    long double result = wide ? ans_l : ans;
    if (expnt != 0) {
        result = std::ldexp(result, static_cast<int>(expnt));
    }
    return std::clamp(result, 0.0L, 1.0L);
}

// Pelz-Good's approximation to Pr(D_n <= x).
double kolmogn_pelzgood_cdf(int64_t n, double x) {
    if (x <= 0.0) {
        return 0.0;
    }
    if (x >= 1.0) {
        return 1.0;
    }
    const auto dn = static_cast<double>(n);
    const double pi2 = k_pi * k_pi;
    const double pi4 = std::pow(k_pi, 4);
    const double pi6 = std::pow(k_pi, 6);
    const double sqrt2pi = std::sqrt(2 * k_pi);

    const double z = std::sqrt(dn) * x;
    const double zsquared = z * z;
    const double zthree = std::pow(z, 3);
    const double zfour = std::pow(z, 4);
    const double zsix = std::pow(z, 6);

    const double qlog = -pi2 / 8 / zsquared;
    if (qlog < -708) {
        return 0.0;
    }
    double q = std::exp(qlog);

    const double k1a = -zsquared;
    const double k1b = pi2 / 4;
    const double k2a = 6 * zsix + 2 * zfour;
    const double k2b = (2 * zfour - 5 * zsquared) * pi2 / 4;
    const double k2c = pi4 * (1 - 2 * zsquared) / 16;
    const double k3d = pi6 * (5 - 30 * zsquared) / 64;
    const double k3c = pi4 * (-60 * zsquared + 212 * zfour) / 16;
    const double k3b = pi2 * (135 * zfour - 96 * zsix) / 4;
    const double k3a = -30 * zsix - 90 * std::pow(z, 8);

    double kk[4] = {0, 0, 0, 0};
    const auto maxk = static_cast<int64_t>(std::ceil(16 * z / k_pi));
    for (int64_t k = maxk; k > 0; --k) {
        const auto m = static_cast<double>(2 * k - 1);
        const double msquared = m * m;
        const double mfour = std::pow(m, 4);
        const double msix = std::pow(m, 6);
        const double qpower = std::pow(q, static_cast<double>(8 * k));
        const double coeffs[4] = {1.0, k1a + k1b * msquared, k2a + k2b * msquared + k2c * mfour,
                                  k3a + k3b * msquared + k3c * mfour + k3d * msix};
        for (int i = 0; i < 4; ++i) {
            kk[i] = kk[i] * qpower + coeffs[i];
        }
    }
    const double denom[4] = {z, 6 * zfour, 72 * std::pow(z, 7), 6480 * std::pow(z, 10)};
    for (int i = 0; i < 4; ++i) {
        kk[i] *= q;
        kk[i] *= sqrt2pi;
        kk[i] /= denom[i];
    }

    q = std::exp(-pi2 / 2 / zsquared);
    const double sqrt3z = std::sqrt(3.0) * z;
    double k2extra = 0.0;
    double k3extra = 0.0;
    for (int64_t k = maxk; k > 0; --k) {
        const auto kd = static_cast<double>(k);
        const double ksq = kd * kd;
        const double qp = std::pow(q, ksq);
        const double kspi = k_pi * kd;
        k2extra += ksq * qp;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ksq * qp;
    }
    k2extra *= pi2 * sqrt2pi / (-36 * zthree);
    kk[2] += k2extra;
    k3extra *= pi2 * sqrt2pi / (216 * zsix);
    kk[3] += k3extra;
    for (int i = 0; i < 4; ++i) {
        kk[i] /= std::pow(dn, i / 2.0);
    }
    return ((kk[0] + kk[1]) + kk[2]) + kk[3];
}

// scipy.stats._ksstats._kolmogn(n, x, cdf=False)
double kolmogn_sf(int64_t n, double x) {
    if (n <= 0) {
        return NAN;
    }
    if (x >= 1.0) {
        return 0.0;
    }
    if (x <= 0.0) {
        return 1.0;
    }
    const auto dn = static_cast<double>(n);
    const double t = dn * x;
    if (t <= 1.0) {
        if (t <= 0.5) {
            return 1.0;
        }
        double prob;
        if (n <= 140) {
            prob = 1.0;
            for (int64_t i = 1; i <= n; ++i) {
                prob *= static_cast<double>(i) * (1.0 / dn) * (2 * t - 1);
            }
        } else {
            prob = std::exp(log_nfactorial_div_n_pow_n(dn) + dn * std::log(2 * t - 1));
        }
        return clip01(1.0 - prob);
    }
    if (t >= dn - 1) {
        return clip01(2 * std::pow(1.0 - x, dn));
    }
    if (x >= 0.5) {
        return clip01(2 * smirnov_impl(n, x));
    }
    const double nxsquared = t * x;
    if (n <= 140) {
        if (nxsquared <= 0.754693) {
            return clip01(static_cast<double>(1.0L - kolmogn_dmtw_cdf(n, x)));
        }
        if (nxsquared <= 4) {
            return clip01(static_cast<double>(1.0L - kolmogn_pomeranz_cdf(n, x)));
        }
        return clip01(2 * smirnov_impl(n, x));
    }
    if (nxsquared >= 370.0) {
        return 0.0;
    }
    if (nxsquared >= 2.2) {
        return clip01(2 * smirnov_impl(n, x));
    }
    if (n <= 100000 && dn * std::pow(x, 1.5) <= 1.4) {
        return clip01(static_cast<double>(1.0L - kolmogn_dmtw_cdf(n, x)));
    }
    return clip01(1.0 - kolmogn_pelzgood_cdf(n, x));
}

// _compute_prob_outside_square: Pr(D_{n,n} >= h/n)
double prob_outside_square(int64_t n, int64_t h) {
    double p = 0.0;
    auto k = static_cast<int64_t>(std::floor(static_cast<double>(n) / static_cast<double>(h)));
    while (k >= 0) {
        double p1 = 1.0;
        for (int64_t j = 0; j < h; ++j) {
            p1 = static_cast<double>(n - k * h - j) * p1 / static_cast<double>(n + k * h + j + 1);
        }
        p = p1 * (1.0 - p);
        --k;
    }
    return 2 * p;
}

// _compute_outer_prob_inside_method (Hodges' inside method, with Viehmann's recursion for
// 1 - p so small p-values keep their digits).
double outer_prob_inside(int64_t m, int64_t n, int64_t g, int64_t h) {
    if (m < n) {
        std::swap(m, n);
    }
    const int64_t mg = m / g;
    const int64_t ng = n / g;
    const auto dmg = static_cast<double>(mg);
    int64_t minj = 0;
    int64_t maxj =
        std::min<int64_t>(static_cast<int64_t>(std::ceil(static_cast<double>(h) / dmg)), n + 1);
    int64_t curlen = maxj - minj;
    const int64_t len_a = std::min<int64_t>(2 * maxj + 2, n + 1);
    std::vector<double> a(static_cast<size_t>(len_a), 1.0);
    for (int64_t j = minj; j < std::min(maxj, len_a); ++j) {
        a[static_cast<size_t>(j)] = 0.0;
    }
    for (int64_t i = 1; i <= m; ++i) {
        const int64_t lastminj = minj;
        const int64_t lastlen = curlen;
        minj = std::max<int64_t>(
            static_cast<int64_t>(std::floor(static_cast<double>(ng * i - h) / dmg)) + 1, 0);
        minj = std::min(minj, n);
        maxj = std::min<int64_t>(
            static_cast<int64_t>(std::ceil(static_cast<double>(ng * i + h) / dmg)), n + 1);
        if (maxj <= minj) {
            return 1.0;
        }
        double val = minj == 0 ? 0.0 : 1.0;
        const auto di = static_cast<double>(i);
        for (int64_t jj = 0; jj < maxj - minj; ++jj) {
            const int64_t j = jj + minj;
            val =
                (a[static_cast<size_t>(jj + minj - lastminj)] * di + val * static_cast<double>(j)) /
                static_cast<double>(i + j);
            a[static_cast<size_t>(jj)] = val;
        }
        curlen = maxj - minj;
        if (lastlen > curlen) {
            const int64_t end = std::min(maxj - minj + (lastlen - curlen), len_a);
            for (int64_t j = maxj - minj; j < end; ++j) {
                a[static_cast<size_t>(j)] = 1;
            }
        }
    }
    return a[static_cast<size_t>(maxj - minj - 1)];
}

}  // namespace

double smirnov_sf(int64_t n, double d) {
    return smirnov_impl(n, d);
}

double kstwo_sf(double d, int64_t n) {
    if (n < 1 || std::isnan(d)) {
        return NAN;
    }
    // rv_continuous.sf: 1 at or below the support's lower end 0.5/n, 0 at or above 1.
    if (d <= 0.5 / static_cast<double>(n)) {
        return 1.0;
    }
    if (d >= 1.0) {
        return 0.0;
    }
    return kolmogn_sf(n, d);
}

std::optional<double> ks_2samp_exact_sf(int64_t n1, int64_t n2, int64_t g, int64_t h) {
    if (h == 0) {
        return 1.0;
    }
    const double p = n1 == n2 ? prob_outside_square(n1, h) : outer_prob_inside(n1, n2, g, h);
    if (!(0 <= p && p <= 1)) {
        return std::nullopt;
    }
    return p;
}

}  // namespace mloop::stats
