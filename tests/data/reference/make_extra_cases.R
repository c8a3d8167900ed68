# Extra reference cases for the engine: simulated trials (fixed seed) and the values R gives for them.
# Usage (from the project root): Rscript tests/data/reference/make_extra_cases.R
# Writes tests/data/reference/extra/data/*.csv.gz and tests/data/reference/extra/cases/*.json in the format of
# the public reference cases; the expected values follow CONTRACT.md:
#   stage one   2x2 tables by hand (0.5 added to the four cells of a table with a zero cell; OR and RR drop
#               trials with no events or only events, RD keeps them), glm for adjusted OR, lm for MD,
#               coxph (Efron) for HR; interaction: the treat:covariate coefficient of each trial's model
#   stage two   metafor rma.uni run to full convergence; Q-profile tau2 CI from confint();
#               prediction interval estimate +/- t(k-2) sqrt(tau2 + SE^2) with the SE of the CI
#   one stage   lmer (REML) for MD, glmmTMB (Laplace) and glmer (nAGQ > 1) for OR, coxph + strata for HR,
#               treatment coded -1/2, +1/2, adjust covariates with one coefficient per trial
# Needs: r-cran-metafor r-cran-lme4 r-cran-survival r-cran-glmmtmb r-cran-jsonlite
suppressPackageStartupMessages({
  library(metafor)
  library(lme4)
  library(survival)
  library(glmmTMB)
  library(jsonlite)
})

script_arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
here <- if (length(script_arg)) dirname(normalizePath(sub("^--file=", "", script_arg))) else "tests/data/reference"
out <- file.path(here, "extra")
dir.create(file.path(out, "data"), recursive = TRUE, showWarnings = FALSE)
dir.create(file.path(out, "cases"), recursive = TRUE, showWarnings = FALSE)
set.seed(20261127)

RMA_CONTROL <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-12, stepadj = 0.5, tau2.max = 1e12)

# ---------------------------------------------------------------- stage one, per trial

trial_names <- function(d) sort(unique(as.character(d$trial)))

# Per-trial table of estimate, se, excluded, n for the 2x2 measures.
two_by_two <- function(d, measure) {
  rows <- lapply(trial_names(d), function(t) {
    s <- d[d$trial == t, ]
    a <- sum(s$y[s$treat == 1]); n1 <- sum(s$treat == 1)
    c <- sum(s$y[s$treat == 0]); n2 <- sum(s$treat == 0)
    cells <- c(a, n1 - a, c, n2 - c)
    if (n1 == 0 || n2 == 0 || (measure != "RD" && (a + c == 0 || a + c == n1 + n2))) {
      return(data.frame(trial = t, estimate = NA, se = NA, excluded = TRUE, n = nrow(s)))
    }
    if (min(cells) == 0) cells <- cells + 0.5
    a <- cells[1]; b <- cells[2]; c <- cells[3]; dd <- cells[4]
    n1 <- a + b; n2 <- c + dd
    est_var <- switch(measure,
      OR = c(log(a * dd / (b * c)), 1 / a + 1 / b + 1 / c + 1 / dd),
      RR = c(log((a / n1) / (c / n2)), 1 / a - 1 / n1 + 1 / c - 1 / n2),
      RD = c(a / n1 - c / n2, (a / n1) * (1 - a / n1) / n1 + (c / n2) * (1 - c / n2) / n2)
    )
    data.frame(trial = t, estimate = est_var[1], se = sqrt(est_var[2]), excluded = FALSE, n = nrow(s))
  })
  do.call(rbind, rows)
}

# Per-trial coefficient `term` of a model fitted by `fit_one(trial rows)` returning c(estimate, se) or NULL.
per_trial_model <- function(d, fit_one) {
  rows <- lapply(trial_names(d), function(t) {
    s <- d[d$trial == t, ]
    r <- if (length(unique(s$treat)) == 2) fit_one(s)
    if (is.null(r) || anyNA(r)) {
      return(data.frame(trial = t, estimate = NA, se = NA, excluded = TRUE, n = nrow(s)))
    }
    data.frame(trial = t, estimate = r[1], se = r[2], excluded = FALSE, n = nrow(s))
  })
  do.call(rbind, rows)
}

coefficient <- function(fit, term) c(unname(coef(fit)[term]), sqrt(unname(vcov(fit)[term, term])))

rhs <- function(first, adjust) paste(c(first, adjust), collapse = " + ")

md_fit <- function(adjust, term = "treat", first = "treat") {
  function(s) coefficient(lm(as.formula(paste("y ~", rhs(first, adjust))), s), term)
}

or_fit <- function(adjust, term = "treat", first = "treat") {
  function(s) {
    # A covariate constant in the trial is aliased with the intercept: R would drop it; dropping it beforehand
    # gives the same model and lets the fit converge to the strict tolerance.
    adjust <- adjust[vapply(adjust, function(a) length(unique(s[[a]])) > 1, TRUE)]
    fit <- glm(as.formula(paste("y ~", rhs(first, adjust))), binomial, s,
               control = glm.control(epsilon = 1e-14, maxit = 100))
    if (!fit$converged) stop("glm did not converge in trial ", s$trial[1])
    coefficient(fit, term)
  }
}

hr_fit <- function(adjust, term = "treat", first = "treat") {
  function(s) {
    if (sum(s$event[s$treat == 1]) == 0 || sum(s$event[s$treat == 0]) == 0) return(NULL)
    fit <- coxph(as.formula(paste("Surv(time, event) ~", rhs(first, adjust))), s, ties = "efron",
                 control = coxph.control(eps = 1e-11, iter.max = 100))
    coefficient(fit, term)
  }
}

# ---------------------------------------------------------------- stage two

METHODS <- c(FE = "FE", DL = "DL", REML = "REML", PM = "PM", ML = "ML", HE = "HE", SJ = "SJ", EB = "EB")

# metafor stops its iterations on an absolute change in tau2: the threshold follows the scale of the variances.
pool <- function(yi, vi, tau2, ci) {
  control <- modifyList(RMA_CONTROL, list(threshold = 1e-12 * max(1, median(vi))))
  rma.uni(yi, vi, method = METHODS[[tau2]], test = if (ci == "hksj") "knha" else "z", control = control)
}

pooled_block <- function(res, with_k = TRUE) {
  block <- list(estimate = c(res$b), se = res$se, ci_low = res$ci.lb, ci_high = res$ci.ub, p = res$pval)
  if (with_k) block$k <- res$k
  block
}

prediction_interval <- function(res) {
  if (res$k < 3) return(NULL)
  half <- qt(0.975, res$k - 2) * sqrt(res$tau2 + res$se^2)
  c(res$b) + c(-half, half)
}

heterogeneity_block <- function(res, tau2) {
  block <- list(tau2 = res$tau2, I2 = res$I2, H2 = res$H2, Q = res$QE, Q_df = res$k - 1, Q_p = res$QEp)
  if (tau2 != "FE") {
    profile <- confint(res, control = list(tol = 1e-12, maxiter = 10000, tau2.max = 1e12))$random["tau^2", ]
    block$tau2_ci <- unname(c(profile[["ci.lb"]], profile[["ci.ub"]]))
  }
  block
}

trial_rows <- function(effects, with_n = FALSE) {
  lapply(seq_len(nrow(effects)), function(i) {
    row <- list(trial = effects$trial[i], estimate = effects$estimate[i], se = effects$se[i],
                excluded = effects$excluded[i])
    if (with_n) row$n <- effects$n[i]
    row
  })
}

two_stage_expect <- function(effects, tau2, ci, aggregate = NULL, with_n = FALSE) {
  if (!is.null(aggregate)) {
    effects <- rbind(effects, data.frame(trial = aggregate$trial, estimate = aggregate$estimate,
                                         se = aggregate$se, excluded = FALSE, n = NA))
  }
  used <- effects[!effects$excluded, ]
  res <- pool(used$estimate, used$se^2, tau2, ci)
  list(per_trial = trial_rows(effects, with_n), pooled = pooled_block(res),
       heterogeneity = heterogeneity_block(res, tau2), prediction_interval = prediction_interval(res))
}

interaction_expect <- function(effects, tau2, ci) {
  used <- effects[!effects$excluded, ]
  res <- pool(used$estimate, used$se^2, tau2, ci)
  rows <- lapply(seq_len(nrow(effects)), function(i) {
    list(trial = effects$trial[i], estimate = effects$estimate[i], se = effects$se[i])
  })
  list(interaction = list(per_trial = rows, pooled = pooled_block(res, with_k = FALSE),
                          heterogeneity = list(tau2 = res$tau2)))
}

# ---------------------------------------------------------------- one stage

# Design columns: trial factor, treatment -1/2, +1/2, and each adjust covariate once per trial.
# Covariates with a coefficient per trial are centred at their trial means: the same model, better conditioned.
one_stage_frame <- function(d, adjust = character()) {
  d$trial <- factor(d$trial)
  d$treat_c <- d$treat - 0.5
  for (a in adjust) d[[a]] <- d[[a]] - ave(d[[a]], d$trial)
  d
}

per_trial_terms <- function(adjust) vapply(adjust, function(a) paste0("trial:", a), "")

lmm_expect <- function(d, adjust = character()) {
  d <- one_stage_frame(d, adjust)
  formula <- as.formula(paste("y ~", paste(c("0 + trial", per_trial_terms(adjust), "treat_c",
                                             "(0 + treat_c | trial)"), collapse = " + ")))
  fit <- lmer(formula, d, REML = TRUE,
              control = lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5)))
  list(pooled = list(estimate = unname(fixef(fit)["treat_c"]), se = sqrt(vcov(fit)["treat_c", "treat_c"])),
       heterogeneity = list(tau2 = as.numeric(VarCorr(fit)$trial)))
}

informative <- function(d) {
  events <- tapply(d$y, d$trial, sum)
  size <- tapply(d$y, d$trial, length)
  keep <- names(events)[events > 0 & events < size]
  d[d$trial %in% keep, ]
}

glmm_expect <- function(d, quadrature, adjust = character()) {
  d <- one_stage_frame(informative(d), adjust)
  d$trial <- droplevels(d$trial)
  terms <- c("0 + trial", per_trial_terms(adjust), "treat_c", "(0 + treat_c | trial)")
  formula <- as.formula(paste("y ~", paste(terms, collapse = " + ")))
  if (quadrature == 1) {
    fit <- glmmTMB(formula, d, binomial, control = glmmTMBControl(optCtrl = list(rel.tol = 1e-12,
                                                                                  iter.max = 1000,
                                                                                  eval.max = 2000)))
    beta <- fixef(fit)$cond["treat_c"]
    se <- sqrt(vcov(fit)$cond["treat_c", "treat_c"])
    tau2 <- as.numeric(VarCorr(fit)$cond$trial)
  } else {
    fit <- glmer(formula, d, binomial, nAGQ = quadrature,
                 control = glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6)))
    beta <- fixef(fit)["treat_c"]
    se <- sqrt(vcov(fit, use.hessian = TRUE)["treat_c", "treat_c"])
    tau2 <- as.numeric(VarCorr(fit)$trial)
  }
  list(pooled = list(estimate = unname(beta), se = unname(se)), heterogeneity = list(tau2 = tau2))
}

cox_expect <- function(d, adjust = character()) {
  d$trial <- factor(d$trial)
  own <- character()
  for (a in adjust) {
    for (t in levels(d$trial)) {
      name <- paste0(a, "_in_", t)
      d[[name]] <- ifelse(d$trial == t, d[[a]], 0)
      own <- c(own, name)
    }
  }
  formula <- as.formula(paste("Surv(time, event) ~", rhs("treat", c(own, "strata(trial)"))))
  fit <- coxph(formula, d, ties = "efron", control = coxph.control(eps = 1e-11, iter.max = 100))
  list(pooled = list(estimate = unname(coef(fit)["treat"]), se = sqrt(vcov(fit)["treat", "treat"])))
}

# One-stage interaction (within and across trials), covariate z with one coefficient per trial, as in the engine:
# t * (z - trial mean) and t * (trial mean - mean of trial means), t coded -1/2, +1/2.
interaction_frame <- function(d, z, adjust) {
  d <- one_stage_frame(d, adjust)
  means <- ave(d[[z]], d$trial)
  d$t_within <- d$treat_c * (d[[z]] - means)
  d$t_across <- d$treat_c * (means - mean(tapply(d[[z]], d$trial, mean)))
  d$z_own <- d[[z]] - means
  d
}

interaction_blocks <- function(beta, cov) {
  block <- function(term) list(estimate = unname(beta[term]), se = sqrt(cov[term, term]))
  list(interaction = list(within = block("t_within"), across = block("t_across")))
}

one_stage_interaction_expect <- function(d, measure, z, adjust = character(), quadrature = 1) {
  if (measure == "OR") d <- informative(d)
  d <- interaction_frame(d, z, adjust)
  d$trial <- droplevels(d$trial)
  fixed <- c(per_trial_terms(c(adjust, "z_own")), "treat_c", "t_within", "t_across")
  if (measure == "HR") {
    own <- character()
    for (a in c(adjust, "z_own")) {
      for (t in levels(d$trial)) {
        name <- paste0(a, "_in_", t)
        d[[name]] <- ifelse(d$trial == t, d[[a]], 0)
        own <- c(own, name)
      }
    }
    formula <- as.formula(paste("Surv(time, event) ~", rhs(c("treat_c", "t_within", "t_across"),
                                                            c(own, "strata(trial)"))))
    fit <- coxph(formula, d, ties = "efron", control = coxph.control(eps = 1e-11, iter.max = 100))
    return(interaction_blocks(coef(fit), vcov(fit)))
  }
  formula <- as.formula(paste("y ~", paste(c("0 + trial", fixed, "(0 + treat_c | trial)"), collapse = " + ")))
  if (measure == "MD") {
    fit <- lmer(formula, d, REML = TRUE,
                control = lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5)))
    return(interaction_blocks(fixef(fit), as.matrix(vcov(fit))))
  }
  if (quadrature == 1) {
    fit <- glmmTMB(formula, d, binomial, control = glmmTMBControl(optCtrl = list(rel.tol = 1e-12,
                                                                                  iter.max = 1000,
                                                                                  eval.max = 2000)))
    return(interaction_blocks(fixef(fit)$cond, vcov(fit)$cond))
  }
  fit <- glmer(formula, d, binomial, nAGQ = quadrature,
               control = glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6)))
  interaction_blocks(fixef(fit), as.matrix(vcov(fit, use.hessian = TRUE)))
}

# ---------------------------------------------------------------- specs and files

COLUMNS <- list(
  continuous = list(trial = "trial", treatment = "treat", outcome = "y"),
  binary = list(trial = "trial", treatment = "treat", outcome = "y"),
  survival = list(trial = "trial", treatment = "treat", time = "time", event = "event")
)
MEASURE <- c(continuous = "MD", binary = "OR", survival = "HR")

make_spec <- function(file, outcome, measure = MEASURE[[outcome]], approach = "two-stage", tau2 = "REML",
                      ci = "wald", adjust = NULL, interaction = NULL, quadrature = NULL, aggregate = NULL) {
  spec <- list(data = file, outcome = outcome, columns = COLUMNS[[outcome]], measure = measure, approach = approach)
  if (approach == "two-stage") {
    spec$tau2 <- tau2
    spec$ci <- ci
  }
  if (identical(spec$tau2, "default")) spec$tau2 <- NULL  # left out: the contract's default applies
  if (identical(spec$ci, "default")) spec$ci <- NULL
  if (length(adjust)) spec$adjust <- I(adjust)
  if (!is.null(interaction)) spec$interaction <- interaction
  if (!is.null(quadrature)) spec$quadrature <- quadrature
  if (!is.null(aggregate)) spec$aggregate <- aggregate
  spec
}

write_data <- function(d, name) {
  file <- paste0(name, ".csv.gz")
  connection <- gzfile(file.path(out, "data", file), "w")
  write.csv(d, connection, row.names = FALSE, na = "")
  close(connection)
  file
}

write_case <- function(name, file, d, analyses) {
  case <- list(case = name, data = file, n = nrow(d), trials = length(unique(d$trial)), analyses = analyses)
  json <- toJSON(case, auto_unbox = TRUE, digits = NA, null = "null", na = "null", pretty = TRUE)
  writeLines(json, file.path(out, "cases", paste0(name, ".json")))
  cat(sprintf("%s: %d analyses, %d rows, %d trials\n", name, length(analyses), nrow(d), case$trials))
}

analysis <- function(spec, expect) list(spec = spec, expect = expect)

# Two-stage analyses of one stage-one table over several (tau2, ci) pairs.
two_stage_set <- function(file, outcome, measure, effects, methods, adjust = NULL, aggregate = NULL,
                          with_n = FALSE) {
  lapply(methods, function(m) {
    analysis(make_spec(file, outcome, measure, tau2 = m[1], ci = m[2], adjust = adjust, aggregate = aggregate),
             two_stage_expect(effects, m[1], m[2], aggregate, with_n))
  })
}

ALL_TAU2 <- list(c("FE", "wald"), c("DL", "wald"), c("REML", "wald"), c("PM", "wald"), c("ML", "wald"),
                 c("HE", "wald"), c("SJ", "wald"), c("EB", "wald"), c("DL", "hksj"), c("REML", "hksj"),
                 c("SJ", "hksj"))
FEW_TAU2 <- list(c("FE", "wald"), c("DL", "wald"), c("REML", "wald"), c("REML", "hksj"))

# ---------------------------------------------------------------- data sets

trial_label <- function(prefix, i) sprintf("%s%02d", prefix, i)

simulate_binary <- function(prefix, k, size_range, base_logit, log_or, tau) {
  rows <- lapply(seq_len(k), function(i) {
    n <- sample(size_range[1]:size_range[2], 1)
    treat <- rbinom(n, 1, 0.5)
    age <- round(rnorm(n, 55 + 3 * i, 9))
    sex <- rbinom(n, 1, 0.5)
    effect <- log_or + rnorm(1, 0, tau)
    eta <- base_logit + rnorm(1, 0, 0.4) + effect * treat + 0.03 * (age - 60) + 0.3 * sex -
      0.02 * treat * (age - 60)
    data.frame(trial = trial_label(prefix, i), id = seq_len(n), treat = treat, age = age, sex = sex,
               y = rbinom(n, 1, plogis(eta)))
  })
  do.call(rbind, rows)
}

simulate_continuous <- function(prefix, k, size_range, effect, tau) {
  rows <- lapply(seq_len(k), function(i) {
    n <- sample(size_range[1]:size_range[2], 1)
    treat <- rbinom(n, 1, 0.5)
    age <- round(rnorm(n, 50 + 2 * i, 10))
    y0 <- round(rnorm(n, 20 + i, 5), 3)
    y <- 5 + i + 0.6 * y0 + 0.05 * age + (effect + rnorm(1, 0, tau)) * treat + rnorm(n, 0, 4 + 0.3 * i)
    data.frame(trial = trial_label(prefix, i), id = seq_len(n), treat = treat, age = age, y0 = y0,
               y = round(y, 3))
  })
  do.call(rbind, rows)
}

simulate_survival <- function(prefix, k, size_range, log_hr, tau, grid) {
  rows <- lapply(seq_len(k), function(i) {
    n <- sample(size_range[1]:size_range[2], 1)
    treat <- rbinom(n, 1, 0.5)
    age <- round(rnorm(n, 60, 8))
    rate <- 0.1 * exp((log_hr + rnorm(1, 0, tau)) * treat + 0.03 * (age - 60) + 0.01 * treat * (age - 60))
    event_time <- rexp(n, rate)
    censor_time <- runif(n, 2, 12)
    time <- pmax(grid, ceiling(pmin(event_time, censor_time) / grid) * grid)
    data.frame(trial = trial_label(prefix, i), id = seq_len(n), treat = treat, age = age, time = time,
               event = as.integer(event_time <= censor_time))
  })
  do.call(rbind, rows)
}

# Sparse binary trials: zero cells, a trial without events, a trial where everyone has the event.
make_bin_sparse <- function() {
  d <- simulate_binary("P", 9, c(30, 80), -2.6, -0.4, 0.3)
  d$y[d$trial == "P02" & d$treat == 0] <- 0
  d$y[d$trial == "P03" & d$treat == 1] <- 0
  d$y[d$trial == "P05"] <- 0
  d$y[d$trial == "P07"] <- 1
  file <- write_data(d, "bin_sparse")
  analyses <- list()
  for (measure in c("OR", "RR", "RD")) {
    analyses <- c(analyses, two_stage_set(file, "binary", measure, two_by_two(d, measure), ALL_TAU2))
  }
  published <- data.frame(trial = c("Abstract 1999", "Letter 2004"), estimate = c(-0.2, -1.1), se = c(0.45, 0.8))
  analyses <- c(analyses,
                two_stage_set(file, "binary", "OR", two_by_two(d, "OR"), list(c("REML", "hksj")),
                              aggregate = published),
                two_stage_set(file, "binary", "RD", two_by_two(d, "RD"), list(c("DL", "wald")),
                              aggregate = data.frame(trial = "Abstract 1999", estimate = -0.03, se = 0.04)),
                list(analysis(make_spec(file, "binary", "OR", "one-stage", quadrature = 1), glmm_expect(d, 1))))
  write_case("bin_sparse", file, d, analyses)
}

# Few trials: k = 2 (continuous) and k = 3 (binary).
make_small_k <- function() {
  d <- simulate_continuous("K", 2, c(80, 160), -2, 1.5)
  file <- write_data(d, "cont_k2")
  analyses <- c(
    two_stage_set(file, "continuous", "MD", per_trial_model(d, md_fit(character())), ALL_TAU2),
    two_stage_set(file, "continuous", "MD", per_trial_model(d, md_fit("y0")), FEW_TAU2, adjust = "y0"),
    list(analysis(make_spec(file, "continuous", approach = "one-stage"), lmm_expect(d)))
  )
  write_case("cont_k2", file, d, analyses)

  d <- simulate_binary("T", 3, c(150, 300), -1, -0.5, 0.5)
  file <- write_data(d, "bin_k3")
  analyses <- list()
  for (measure in c("OR", "RR", "RD")) {
    analyses <- c(analyses, two_stage_set(file, "binary", measure, two_by_two(d, measure), ALL_TAU2))
  }
  analyses <- c(analyses, list(analysis(make_spec(file, "binary", "OR", "one-stage", quadrature = 1),
                                        glmm_expect(d, 1)),
                                analysis(make_spec(file, "binary", "OR", "one-stage"), glmm_expect(d, 1)),
                                analysis(make_spec(file, "binary", "OR", "one-stage", quadrature = 9),
                                         glmm_expect(d, 9))))
  write_case("bin_k3", file, d, analyses)
}

# Heterogeneous binary trials with covariates: adjusted OR, interaction, quadrature, aggregate trials.
make_bin_het <- function() {
  d <- simulate_binary("H", 10, c(120, 260), -0.8, -0.5, 0.6)
  file <- write_data(d, "bin_het")
  aggregate <- data.frame(trial = c("Published A", "Published B"), estimate = c(-0.71, -0.12), se = c(0.29, 0.41))
  interaction <- per_trial_model(d, or_fit("age", term = "treat:age", first = "treat * age"))
  analyses <- c(
    two_stage_set(file, "binary", "OR", per_trial_model(d, or_fit("age")), FEW_TAU2, adjust = "age"),
    two_stage_set(file, "binary", "OR", per_trial_model(d, or_fit(c("age", "sex"))),
                  list(c("REML", "wald"), c("EB", "wald")), adjust = c("age", "sex")),
    lapply(c("FE", "REML"), function(m) {
      analysis(make_spec(file, "binary", "OR", tau2 = m, interaction = "age"), interaction_expect(interaction, m, "wald"))
    }),
    two_stage_set(file, "binary", "OR", two_by_two(d, "OR"), list(c("REML", "wald"), c("DL", "hksj")),
                  aggregate = aggregate),
    two_stage_set(file, "binary", "RR", two_by_two(d, "RR"), list(c("HE", "wald"), c("SJ", "wald"),
                                                                   c("EB", "hksj"))),
    lapply(c(1, 5, 9), function(q) {
      analysis(make_spec(file, "binary", "OR", "one-stage", quadrature = q), glmm_expect(d, q))
    }),
    list(analysis(make_spec(file, "binary", "OR", "one-stage", adjust = "age", quadrature = 1),
                  glmm_expect(d, 1, "age"))),
    lapply(c(1, 9), function(q) {
      analysis(make_spec(file, "binary", "OR", "one-stage", interaction = "age", quadrature = q),
               one_stage_interaction_expect(d, "OR", "age", quadrature = q))
    })
  )
  write_case("bin_het", file, d, analyses)
}

# Continuous trials with two prognostic covariates; aggregate trials beside them.
make_cont_adj <- function() {
  d <- simulate_continuous("M", 7, c(90, 220), -1.8, 0.9)
  file <- write_data(d, "cont_adj")
  aggregate <- data.frame(trial = c("Report 2001", "Report 2009", "Report 2015"),
                          estimate = c(-2.4, -0.9, -1.6), se = c(0.8, 0.6, 1.1))
  analyses <- c(
    two_stage_set(file, "continuous", "MD", per_trial_model(d, md_fit(c("y0", "age"))), ALL_TAU2,
                  adjust = c("y0", "age")),
    two_stage_set(file, "continuous", "MD", per_trial_model(d, md_fit(character())),
                  list(c("REML", "wald"), c("DL", "hksj"), c("FE", "wald")), aggregate = aggregate),
    list(analysis(make_spec(file, "continuous", approach = "one-stage", adjust = c("y0", "age")),
                  lmm_expect(d, c("y0", "age"))),
         analysis(make_spec(file, "continuous", approach = "one-stage"), lmm_expect(d)),
         analysis(make_spec(file, "continuous", approach = "one-stage", adjust = "y0", interaction = "age"),
                  one_stage_interaction_expect(d, "MD", "age", "y0")))
  )
  write_case("cont_adj", file, d, analyses)
}

# Missing values: in the outcome, the treatment, a covariate, and a column no analysis uses.
make_cont_missing <- function() {
  d <- simulate_continuous("N", 5, c(60, 140), -1.2, 0.7)
  n <- nrow(d)
  d$y[sample(n, round(0.05 * n))] <- NA
  d$y0[sample(n, round(0.06 * n))] <- NA
  d$age[sample(n, round(0.08 * n))] <- NA
  d$treat[sample(n, round(0.02 * n))] <- NA
  file <- write_data(d, "cont_missing")
  d <- d[!is.na(d$treat), ]
  complete_y <- d[!is.na(d$y), ]
  complete_y0 <- d[!is.na(d$y) & !is.na(d$y0), ]
  analyses <- c(
    two_stage_set(file, "continuous", "MD", per_trial_model(complete_y, md_fit(character())), FEW_TAU2,
                  with_n = TRUE),
    two_stage_set(file, "continuous", "MD", per_trial_model(complete_y0, md_fit("y0")), FEW_TAU2,
                  adjust = "y0", with_n = TRUE),
    list(analysis(make_spec(file, "continuous", approach = "one-stage"), lmm_expect(complete_y)),
         analysis(make_spec(file, "continuous", approach = "one-stage", adjust = "y0"),
                  lmm_expect(complete_y0, "y0")))
  )
  write_case("cont_missing", file, d, analyses)
}

# Survival with tied times, a covariate, and one trial without events in its intervention arm.
make_surv_ties <- function() {
  d <- simulate_survival("S", 7, c(80, 180), -0.35, 0.25, 0.5)
  d$event[d$trial == "S04" & d$treat == 1] <- 0
  file <- write_data(d, "surv_ties")
  interaction <- per_trial_model(d, hr_fit("age", term = "treat:age", first = "treat * age"))
  analyses <- c(
    two_stage_set(file, "survival", "HR", per_trial_model(d, hr_fit(character())), ALL_TAU2),
    two_stage_set(file, "survival", "HR", per_trial_model(d, hr_fit("age")), FEW_TAU2, adjust = "age"),
    lapply(c("FE", "REML"), function(m) {
      analysis(make_spec(file, "survival", tau2 = m, interaction = "age"), interaction_expect(interaction, m, "wald"))
    }),
    list(analysis(make_spec(file, "survival", approach = "one-stage"), cox_expect(d)),
         analysis(make_spec(file, "survival", approach = "one-stage", adjust = "age"), cox_expect(d, "age")),
         analysis(make_spec(file, "survival", approach = "one-stage", interaction = "age"),
                  one_stage_interaction_expect(d, "HR", "age"))),
    two_stage_set(file, "survival", "HR", per_trial_model(d, hr_fit(character())),
                  list(c("PM", "hksj"), c("REML", "wald")),
                  aggregate = data.frame(trial = "Registry", estimate = -0.52, se = 0.21))
  )
  write_case("surv_ties", file, d, analyses)
}

# Integer trial labels, missing values, a trial with one arm only; quadrature with 2 and 25 nodes.
make_bin_labels <- function() {
  d <- simulate_binary("", 12, c(80, 200), -0.6, -0.4, 0.5)
  d$trial <- as.integer(d$trial)
  d$treat[d$trial == 11] <- 0
  n <- nrow(d)
  d$y[sample(n, round(0.04 * n))] <- NA
  d$age[sample(n, round(0.05 * n))] <- NA
  file <- write_data(d, "bin_labels")
  d$trial <- as.character(d$trial)
  complete_y <- d[!is.na(d$y), ]
  complete_age <- complete_y[!is.na(complete_y$age), ]
  analyses <- c(
    two_stage_set(file, "binary", "OR", two_by_two(complete_y, "OR"), list(c("REML", "wald")), with_n = TRUE),
    two_stage_set(file, "binary", "RR", two_by_two(complete_y, "RR"), list(c("DL", "hksj")), with_n = TRUE),
    two_stage_set(file, "binary", "RD", two_by_two(complete_y, "RD"), list(c("FE", "wald")), with_n = TRUE),
    two_stage_set(file, "binary", "OR", per_trial_model(complete_age, or_fit("age")), list(c("REML", "wald")),
                  adjust = "age", with_n = TRUE),
    lapply(c(1, 2, 25), function(q) {
      analysis(make_spec(file, "binary", "OR", "one-stage", quadrature = q), glmm_expect(complete_y, q))
    }),
    list(analysis(make_spec(file, "binary", "OR", "one-stage", adjust = "age", quadrature = 5),
                  glmm_expect(complete_age, 5, "age")))
  )
  write_case("bin_labels", file, d, analyses)
}

# Homogeneous continuous trials (tau2 on its boundary), one trial with one arm only, interactions.
make_cont_homog <- function() {
  d <- simulate_continuous("E", 6, c(70, 150), -1.5, 0)
  d$treat[d$trial == "E06"] <- 1
  file <- write_data(d, "cont_homog")
  interaction <- per_trial_model(d, md_fit(character(), term = "treat:age", first = "treat * age"))
  analyses <- c(
    two_stage_set(file, "continuous", "MD", per_trial_model(d, md_fit(character())), ALL_TAU2),
    lapply(list(c("DL", "hksj"), c("PM", "wald")), function(m) {
      analysis(make_spec(file, "continuous", tau2 = m[1], ci = m[2], interaction = "age"),
               interaction_expect(interaction, m[1], m[2]))
    }),
    list(analysis(make_spec(file, "continuous", approach = "one-stage"), lmm_expect(d)),
         analysis(make_spec(file, "continuous", approach = "one-stage", adjust = "y0"), lmm_expect(d, "y0")),
         analysis(make_spec(file, "continuous", tau2 = "default", ci = "default"),
                  two_stage_expect(per_trial_model(d, md_fit(character())), "REML", "wald")))
  )
  write_case("cont_homog", file, d, analyses)
}

# Survival with missing times and events, a trial without any event, interaction with Knapp-Hartung.
make_surv_missing <- function() {
  d <- simulate_survival("R", 8, c(60, 150), -0.3, 0.3, 0.25)
  d$event[d$trial == "R05"] <- 0
  n <- nrow(d)
  d$time[sample(n, round(0.03 * n))] <- NA
  d$event[sample(n, round(0.03 * n))] <- NA
  d$age[sample(n, round(0.05 * n))] <- NA
  file <- write_data(d, "surv_missing")
  complete <- d[!is.na(d$time) & !is.na(d$event), ]
  complete_age <- complete[!is.na(complete$age), ]
  interaction <- per_trial_model(complete_age, hr_fit("age", term = "treat:age", first = "treat * age"))
  analyses <- c(
    two_stage_set(file, "survival", "HR", per_trial_model(complete, hr_fit(character())),
                  list(c("REML", "wald"), c("EB", "hksj")), with_n = TRUE),
    two_stage_set(file, "survival", "HR", per_trial_model(complete_age, hr_fit("age")), list(c("DL", "wald")),
                  adjust = "age", with_n = TRUE),
    list(analysis(make_spec(file, "survival", tau2 = "DL", ci = "hksj", interaction = "age"),
                  interaction_expect(interaction, "DL", "hksj")),
         analysis(make_spec(file, "survival", approach = "one-stage"), cox_expect(complete)),
         analysis(make_spec(file, "survival", approach = "one-stage", adjust = "age"),
                  cox_expect(complete_age, "age")))
  )
  write_case("surv_missing", file, d, analyses)
}

# Awkward labels and an arm where everyone has the event; Knapp-Hartung with FE and with the HE and EB estimators.
make_bin_edge <- function() {
  d <- simulate_binary("X", 6, c(120, 240), -0.5, -0.5, 0.4)
  labels <- c(X01 = "Smith, 2003", X02 = "O'Brien \"B\" trial", X03 = "M\u00fcller 2010", X04 = "Trial 4",
              X05 = "T5", X06 = "T6")
  d$trial <- unname(labels[d$trial])
  d$y[d$trial == "T5" & d$treat == 1] <- 1
  file <- write_data(d, "bin_edge")
  analyses <- c(
    two_stage_set(file, "binary", "OR", two_by_two(d, "OR"), list(c("FE", "hksj"), c("EB", "wald"))),
    two_stage_set(file, "binary", "RR", two_by_two(d, "RR"), list(c("HE", "hksj"))),
    two_stage_set(file, "binary", "RD", two_by_two(d, "RD"), list(c("EB", "hksj")))
  )
  write_case("bin_edge", file, d, analyses)
}

# Per-trial effects nearly equal: tau2 on its boundary and a Q-profile interval that is empty; also a single trial.
make_cont_equal <- function() {
  d <- simulate_continuous("Q", 6, c(80, 150), -1, 0)
  for (i in 1:6) {
    t <- trial_label("Q", i)
    s <- d[d$trial == t, ]
    observed <- coef(lm(y ~ treat, s))[["treat"]]
    d$y[d$trial == t & d$treat == 1] <- round(s$y[s$treat == 1] - observed - 1 + 0.01 * (i %% 3), 3)
  }
  file <- write_data(d, "cont_equal")
  analyses <- two_stage_set(file, "continuous", "MD", per_trial_model(d, md_fit(character())),
                            c(ALL_TAU2, list(c("FE", "hksj"), c("HE", "hksj"), c("EB", "hksj"))))
  write_case("cont_equal", file, d, analyses)

  single <- d[d$trial == "Q01", ]
  file <- write_data(single, "cont_single")
  effects <- per_trial_model(single, md_fit(character()))
  analyses <- lapply(c("FE", "REML"), function(m) {
    res <- pool(effects$estimate, effects$se^2, "FE", "wald")
    analysis(make_spec(file, "continuous", tau2 = m),
             list(per_trial = trial_rows(effects), pooled = pooled_block(res)))
  })
  write_case("cont_single", file, single, analyses)
}

# The same trials on a large and on a tiny scale: solvers and stopping rules must not depend on the units.
make_cont_scale <- function() {
  base <- simulate_continuous("U", 8, c(60, 140), -2, 2.5)
  for (scale in c(large = 1000, tiny = 0.001)) {
    d <- base
    d$y <- d$y * scale
    d$y0 <- d$y0 * scale
    name <- paste0("cont_", names(which(c(large = 1000, tiny = 0.001) == scale)))
    file <- write_data(d, name)
    analyses <- c(
      two_stage_set(file, "continuous", "MD", per_trial_model(d, md_fit(character())), ALL_TAU2),
      two_stage_set(file, "continuous", "MD", per_trial_model(d, md_fit("y0")), list(c("REML", "hksj")),
                    adjust = "y0"),
      list(analysis(make_spec(file, "continuous", approach = "one-stage"), lmm_expect(d)),
           analysis(make_spec(file, "continuous", approach = "one-stage", adjust = "y0"), lmm_expect(d, "y0")))
    )
    write_case(name, file, d, analyses)
  }
}

# A single-sex trial adjusted for sex: the covariate is constant there, so R's models drop (alias) it, and the
# treatment effect is still estimated from that trial.
make_single_sex <- function() {
  rows <- lapply(1:6, function(i) {
    n <- sample(100:200, 1)
    treat <- rbinom(n, 1, 0.5)
    sex <- if (i == 4) rep(1L, n) else rbinom(n, 1, 0.5)
    effect <- rnorm(1, 0, 0.3)
    event_time <- rexp(n, 0.1 * exp((-0.4 + effect) * treat + 0.3 * sex))
    censor_time <- runif(n, 2, 12)
    data.frame(trial = trial_label("W", i), id = seq_len(n), treat = treat, sex = sex,
               y = round(10 + (-1.5 + 2 * effect) * treat + 1.2 * sex + rnorm(n, 0, 3), 3),
               yb = rbinom(n, 1, plogis(-0.5 + (-0.5 + effect) * treat + 0.4 * sex)),
               time = round(pmin(event_time, censor_time), 3), event = as.integer(event_time <= censor_time))
  })
  d <- do.call(rbind, rows)
  file <- write_data(d, "single_sex")
  binary <- transform(d, y = yb)
  binary_columns <- list(trial = "trial", treatment = "treat", outcome = "yb")
  with_binary_columns <- function(a) {
    a$spec$columns <- binary_columns
    a
  }
  analyses <- c(
    two_stage_set(file, "continuous", "MD", per_trial_model(d, md_fit("sex")), list(c("REML", "wald")),
                  adjust = "sex"),
    lapply(two_stage_set(file, "binary", "OR", per_trial_model(binary, or_fit("sex")), list(c("REML", "wald")),
                         adjust = "sex"), with_binary_columns),
    two_stage_set(file, "survival", "HR", per_trial_model(d, hr_fit("sex")), list(c("REML", "wald")),
                  adjust = "sex"),
    list(analysis(make_spec(file, "continuous", approach = "one-stage", adjust = "sex"), lmm_expect(d, "sex")),
         with_binary_columns(analysis(make_spec(file, "binary", "OR", "one-stage", adjust = "sex", quadrature = 5),
                                      glmm_expect(binary, 5, "sex"))),
         analysis(make_spec(file, "survival", approach = "one-stage", adjust = "sex"), cox_expect(d, "sex")))
  )
  write_case("single_sex", file, d, analyses)
}

# Many small trials with few events: zero cells in many tables, estimators and profiles over 40 trials.
make_bin_many <- function() {
  d <- simulate_binary("Z", 40, c(16, 50), -2.2, -0.3, 0.4)
  file <- write_data(d, "bin_many")
  analyses <- list()
  for (measure in c("OR", "RR", "RD")) {
    analyses <- c(analyses, two_stage_set(file, "binary", measure, two_by_two(d, measure), ALL_TAU2))
  }
  analyses <- c(analyses, lapply(c(1, 7), function(q) {
    analysis(make_spec(file, "binary", "OR", "one-stage", quadrature = q), glmm_expect(d, q))
  }))
  write_case("bin_many", file, d, analyses)
}

# A text covariate (R's factor): region with levels east (the reference), north and south, sorted in the C locale;
# north is absent from trial R02 (its indicator is constant there) and east from R04 (the indicators are collinear
# with the intercept there); a few rows without a region. A two-level text sex ("F", "M") for an interaction.
# Own seed, so that the cases above keep their data.
make_factor_region <- function() {
  set.seed(20261128)
  rows <- lapply(1:6, function(i) {
    n <- sample(80:160, 1)
    treat <- rbinom(n, 1, 0.5)
    present <- switch(as.character(i), "2" = c("east", "south"), "4" = c("north", "south"),
                      c("east", "north", "south"))
    region <- sample(present, n, replace = TRUE)
    sex <- sample(c("F", "M"), n, replace = TRUE)
    shift <- c(east = 0, north = 0.5, south = -0.4)[region]
    effect <- rnorm(1, 0, 0.2)
    event_time <- rexp(n, 0.1 * exp((-0.4 + effect) * treat + shift))
    censor_time <- runif(n, 2, 12)
    data.frame(trial = trial_label("R", i), id = seq_len(n), treat = treat, region = region, sex = sex,
               y = round(10 + (-1.2 + 2 * effect) * treat + 2 * shift + 0.8 * (sex == "M") * treat +
                           rnorm(n, 0, 3), 3),
               yb = rbinom(n, 1, plogis(-0.3 + (-0.5 + effect) * treat + shift)),
               time = round(pmin(event_time, censor_time), 3), event = as.integer(event_time <= censor_time))
  })
  d <- do.call(rbind, rows)
  d$region[sample(nrow(d), 6)] <- NA
  file <- write_data(d, "factor_region")
  d <- d[!is.na(d$region), ]
  old_collate <- Sys.getlocale("LC_COLLATE")
  Sys.setlocale("LC_COLLATE", "C")
  # R's own treatment contrasts give the one-stage models their per-trial indicator columns.
  coded <- cbind(d, model.matrix(~ region, d)[, -1])
  indicators <- c("regionnorth", "regionsouth")
  binary <- transform(coded, y = yb)
  binary_columns <- list(trial = "trial", treatment = "treat", outcome = "yb")
  with_binary_columns <- function(a) {
    a$spec$columns <- binary_columns
    a
  }
  analyses <- c(
    two_stage_set(file, "continuous", "MD", per_trial_model(d, md_fit("region")), FEW_TAU2, adjust = "region",
                  with_n = TRUE),
    lapply(two_stage_set(file, "binary", "OR", per_trial_model(binary, or_fit("region")), list(c("REML", "wald")),
                         adjust = "region"), with_binary_columns),
    two_stage_set(file, "survival", "HR", per_trial_model(d, hr_fit("region")), list(c("REML", "wald")),
                  adjust = "region"),
    list(analysis(make_spec(file, "continuous", "MD", interaction = "sex", adjust = "region"),
                  interaction_expect(per_trial_model(d, md_fit("region", "treat:sexM", "treat * sex")), "REML",
                                     "wald")),
         analysis(make_spec(file, "continuous", approach = "one-stage", adjust = "region"),
                  lmm_expect(coded, indicators)),
         with_binary_columns(analysis(make_spec(file, "binary", "OR", "one-stage", adjust = "region",
                                                quadrature = 5), glmm_expect(binary, 5, indicators))),
         analysis(make_spec(file, "survival", approach = "one-stage", adjust = "region"),
                  cox_expect(coded, indicators)))
  )
  Sys.setlocale("LC_COLLATE", old_collate)
  write_case("factor_region", file, d, analyses)
}

make_bin_sparse()
make_small_k()
make_bin_het()
make_cont_adj()
make_cont_missing()
make_surv_ties()
make_bin_labels()
make_cont_homog()
make_surv_missing()
make_bin_edge()
make_cont_equal()
make_cont_scale()
make_single_sex()
make_bin_many()
make_factor_region()
