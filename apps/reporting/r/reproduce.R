#!/usr/bin/env Rscript
# Re-runs every analysis of this bundle in R and prints R's numbers beside the app's.
#
#   Rscript reproduce.R [bundle folder]        (default: the folder of this script)
#
# Each analysis' input is rebuilt as the app builds it: every harmonised table the run read (data/*.csv), the
# treatment coded 1 (intervention) / 0 (control) with the trial's codes from run.json, rows with a missing value
# in a variable the analysis uses left out, text covariates coded as R codes a factor. Then:
#   two-stage   per trial: 2x2 tables (0.5 added to each cell of a table with a zero cell) for unadjusted OR, RR
#               and RD; lm for MD; glm (logistic) for adjusted OR; coxph (Efron ties) for HR; interactions as the
#               treat:covariate coefficient of each trial's model. A trial whose data stay on the provider's
#               platform enters with its stage-one estimate from stage-one.csv. Pooled with metafor's rma.uni.
#   one-stage   lmer (REML) for MD and glmer (Laplace, or adaptive Gauss-Hermite) for OR, with an intercept per
#               trial, treatment coded -1/2, +1/2 with a random effect across trials, covariates with a coefficient
#               per trial; coxph stratified by trial for HR. Interactions split into within- and across-trial parts.
# Exit status: 0 when every analysis is reproduced; 1 when a number differs beyond tolerance (1e-6 relative for
# two-stage results, 1e-3 for one-stage); 2 when an analysis cannot be re-run from the bundle.
suppressPackageStartupMessages({
  library(jsonlite)
  library(metafor)
  library(lme4)
  library(survival)
})

TOLERANCE <- c("two-stage" = 1e-6, "one-stage" = 1e-3)
RMA_CONTROL <- list(threshold = 1e-12, maxiter = 10000, tol = 1e-12, stepadj = 0.5, tau2.max = 1e12)

script_arg <- grep("^--file=", commandArgs(FALSE), value = TRUE)
args <- commandArgs(trailingOnly = TRUE)
here <- if (length(args)) args[1] else if (length(script_arg)) dirname(normalizePath(sub("^--file=", "", script_arg))) else "."

# What R says while fitting (singular fits, dropped columns) is collected and printed with the analysis.
said <- character()
quietly <- function(expr) {
  withCallingHandlers(expr,
    message = function(m) { said <<- c(said, trimws(conditionMessage(m))); invokeRestart("muffleMessage") },
    warning = function(w) { said <<- c(said, trimws(conditionMessage(w))); invokeRestart("muffleWarning") }
  )
}

read_json_file <- function(path) fromJSON(file.path(here, path), simplifyVector = FALSE)
num <- function(x) if (is.null(x)) NA_real_ else as.numeric(x)

# ------------------------------------------------------------------------------------------------ the input

# The value of a column as the app's engine reads it: numbers, 0/1 for booleans, or text.
column_values <- function(frame, name, kind) {
  value <- frame[[name]]
  if (is.null(value)) stop("column ", name, " is not in the table")
  if (kind == "boolean") return(ifelse(is.na(value), NA_real_, ifelse(value == "true", 1, 0)))
  if (kind == "number") return(as.numeric(value))
  if (kind == "empty") return(rep(NA_real_, length(value)))
  value
}

# 1 / 0 / NA as the app codes the treatment: codes compared as text ("1", 1 and 1.0 all read "1").
code_treatment <- function(value, kind, codes) {
  if (is.numeric(value)) {
    finite <- value[is.finite(value)]
    text <- if (all(finite == round(finite))) ifelse(is.na(value), NA, sprintf("%.0f", value)) else NULL
    if (!is.null(text)) {
      return(ifelse(is.na(text), NA_real_, ifelse(text == codes$intervention, 1, ifelse(text == codes$control, 0, NA_real_))))
    }
    return(ifelse(value == suppressWarnings(as.numeric(codes$intervention)), 1,
                  ifelse(value == suppressWarnings(as.numeric(codes$control)), 0, NA_real_)))
  }
  ifelse(is.na(value), NA_real_, ifelse(value == codes$intervention, 1, ifelse(value == codes$control, 0, NA_real_)))
}

used_columns <- function(spec) {
  roles <- spec$columns
  roles$trial <- NULL
  unique(c(unlist(roles), unlist(spec$adjust), unlist(spec$interaction)))
}

# The rows of every trial, or the reason the analysis cannot be re-run from the bundle.
build_input <- function(spec, record) {
  columns <- spec$columns
  used <- used_columns(spec)
  pieces <- list()
  for (input in record$inputs) {
    if (is.null(input$file)) next
    frame <- read.csv(file.path(here, input$file), colClasses = "character", na.strings = "", check.names = FALSE,
                      encoding = "UTF-8")
    piece <- data.frame(trial = rep(as.character(input$trial), nrow(frame)), stringsAsFactors = FALSE)
    for (name in used) {
      kind <- input$types[[name]]
      value <- column_values(frame, name, kind)
      if (name == columns$treatment) value <- code_treatment(value, kind, input$arm_codes)
      piece[[name]] <- value
    }
    pieces[[length(pieces) + 1]] <- piece
  }
  if (!length(pieces)) return(NULL)
  # A column that is text in the tables is a number when every value reads as one, else a factor (as the engine).
  d <- do.call(rbind, pieces)
  for (name in used) {
    if (is.character(d[[name]])) {
      present <- d[[name]][!is.na(d[[name]])]
      numbers <- suppressWarnings(as.numeric(present))
      if (length(present) && !anyNA(numbers)) d[[name]] <- suppressWarnings(as.numeric(d[[name]]))
      else if (length(present) && any(!is.na(numbers))) stop("column ", name, " mixes numbers and text")
    }
  }
  d[complete.cases(d[, used, drop = FALSE]), , drop = FALSE]
}

# Covariates as model columns: numbers as they are, a text column as one 0/1 column per level after the first
# (the engine's names: column + level); the interaction column, when text, coded 0 / 1 by its two levels.
model_columns <- function(d, names, interaction = NULL) {
  out <- list()
  for (name in names) {
    value <- d[[name]]
    if (is.character(value)) {
      levels <- sort(unique(value), method = "radix")
      if (identical(name, interaction)) {
        out[[name]] <- as.numeric(value == levels[2])
      } else {
        for (level in levels[-1]) out[[paste0(name, level)]] <- as.numeric(value == level)
      }
    } else {
      out[[name]] <- value
    }
  }
  out
}

# The analysis frame with plain names: trial, treat, y (or time and event), x1.. (covariates), z (interaction).
analysis_frame <- function(d, spec) {
  columns <- spec$columns
  frame <- data.frame(trial = d$trial, treat = d[[columns$treatment]], stringsAsFactors = FALSE)
  if (spec$outcome == "survival") {
    frame$time <- d[[columns$time]]
    frame$event <- d[[columns$event]]
  } else {
    frame$y <- d[[columns$outcome]]
  }
  interaction <- if (is.null(spec$interaction)) NULL else spec$interaction
  adjust <- setdiff(unlist(spec$adjust), interaction)
  covariates <- model_columns(d, adjust)
  names_x <- character()
  for (i in seq_along(covariates)) {
    frame[[paste0("x", i)]] <- covariates[[i]]
    names_x <- c(names_x, paste0("x", i))
  }
  if (!is.null(interaction)) frame$z <- model_columns(d, interaction, interaction)[[1]]
  attr(frame, "covariates") <- names_x
  frame
}

# ------------------------------------------------------------------------------------------------ two-stage

varying <- function(s, names) names[vapply(names, function(a) length(unique(s[[a]])) > 1, TRUE)]
rhs <- function(terms) paste(terms, collapse = " + ")
coefficient <- function(fit, term) {
  estimate <- unname(coef(fit)[term])
  if (is.na(estimate)) return(NULL)
  c(estimate, sqrt(unname(vcov(fit)[term, term])))
}

two_by_two <- function(s, measure) {
  a <- sum(s$y[s$treat == 1]); n1 <- sum(s$treat == 1)
  c <- sum(s$y[s$treat == 0]); n2 <- sum(s$treat == 0)
  cells <- c(a, n1 - a, c, n2 - c)
  if (n1 == 0 || n2 == 0 || (measure != "RD" && (a + c == 0 || a + c == n1 + n2))) return(NULL)
  if (min(cells) == 0) cells <- cells + 0.5
  a <- cells[1]; b <- cells[2]; c <- cells[3]; dd <- cells[4]
  n1 <- a + b; n2 <- c + dd
  switch(measure,
    OR = c(log(a * dd / (b * c)), sqrt(1 / a + 1 / b + 1 / c + 1 / dd)),
    RR = c(log((a / n1) / (c / n2)), sqrt(1 / a - 1 / n1 + 1 / c - 1 / n2)),
    RD = c(a / n1 - c / n2, sqrt((a / n1) * (1 - a / n1) / n1 + (c / n2) * (1 - c / n2) / n2))
  )
}

empty_binary_arm <- function(s) {
  cells <- c(sum(s$y[s$treat == 1]), sum(1 - s$y[s$treat == 1]), sum(s$y[s$treat == 0]), sum(1 - s$y[s$treat == 0]))
  any(cells == 0)
}

no_events_in_an_arm <- function(s) sum(s$event[s$treat == 1]) == 0 || sum(s$event[s$treat == 0]) == 0

# One trial's model: `first` terms then the covariates; the coefficient `term` with its SE, or NULL (excluded).
trial_model <- function(s, measure, first, covariates, term) {
  terms <- c(first, varying(s, covariates))
  if (measure == "MD") {
    fit <- lm(as.formula(paste("y ~", rhs(terms))), s)
    if (fit$df.residual <= 0) return(NULL)
    return(coefficient(fit, term))
  }
  if (measure == "OR") {
    if (empty_binary_arm(s)) return(NULL)
    fit <- glm(as.formula(paste("y ~", rhs(terms))), binomial, s, control = glm.control(epsilon = 1e-14, maxit = 100))
    if (!fit$converged) return(NULL)
    return(coefficient(fit, term))
  }
  if (no_events_in_an_arm(s)) return(NULL)
  fit <- coxph(as.formula(paste("Surv(time, event) ~", rhs(terms))), s, ties = "efron",
               control = coxph.control(eps = 1e-11, iter.max = 100))
  coefficient(fit, term)
}

stage_one <- function(frame, spec, interaction = FALSE) {
  covariates <- attr(frame, "covariates")
  trials <- sort(unique(frame$trial), method = "radix")
  rows <- lapply(trials, function(t) {
    s <- frame[frame$trial == t, , drop = FALSE]
    r <- NULL
    if (length(unique(s$treat)) == 2) {
      if (interaction) {
        if (length(unique(s$z)) > 1) r <- trial_model(s, spec$measure, c("treat", "z", "treat:z"), covariates, "treat:z")
      } else if (spec$measure %in% c("OR", "RR", "RD") && !length(covariates)) {
        r <- two_by_two(s, spec$measure)
      } else {
        r <- trial_model(s, spec$measure, "treat", covariates, "treat")
      }
    }
    data.frame(trial = t, estimate = if (is.null(r)) NA else r[1], se = if (is.null(r)) NA else r[2],
               source = "R", stringsAsFactors = FALSE)
  })
  do.call(rbind, rows)
}

# Trials whose data stay on the platform: their stage-one estimates as the app computed them.
withheld_rows <- function(folder, record, interaction = FALSE) {
  withheld <- vapply(record$inputs, function(input) is.null(input$file), TRUE)
  if (!any(withheld)) return(NULL)
  table <- read.csv(file.path(here, folder, "stage-one.csv"), colClasses = "character", na.strings = "")
  table <- table[table$data == "platform", , drop = FALSE]
  estimate <- if (interaction) table$interaction_estimate else table$estimate
  se <- if (interaction) table$interaction_se else table$se
  data.frame(trial = table$trial, estimate = as.numeric(estimate), se = as.numeric(se), source = "app",
             stringsAsFactors = FALSE)
}

pool <- function(yi, vi, spec) {
  control <- modifyList(RMA_CONTROL, list(threshold = 1e-12 * max(1, median(vi))))
  rma.uni(yi, vi, method = spec$tau2, test = if (identical(spec$ci, "hksj")) "knha" else "z", control = control)
}

prediction_interval <- function(res) {
  if (res$k < 3) return(c(NA, NA))
  half <- qt(0.975, res$k - 2) * sqrt(res$tau2 + res$se^2)
  c(res$b) + c(-half, half)
}

two_stage <- function(frame, spec, folder, record, result) {
  rows <- rbind(stage_one(frame, spec), withheld_rows(folder, record))
  for (item in spec$aggregate) {
    rows <- rbind(rows, data.frame(trial = item$trial, estimate = item$estimate, se = item$se, source = "published",
                                   stringsAsFactors = FALSE))
  }
  used <- rows[!is.na(rows$estimate), ]
  res <- pool(used$estimate, used$se^2, spec)
  app_trials <- result$per_trial
  app <- setNames(vapply(app_trials, function(row) num(row$estimate), 0), vapply(app_trials, function(row) row$trial, ""))
  compared <- list(
    list("pooled estimate", num(result$pooled$estimate), c(res$b)),
    list("pooled SE", num(result$pooled$se), res$se),
    list("95% CI low", num(result$pooled$ci_low), res$ci.lb),
    list("95% CI high", num(result$pooled$ci_high), res$ci.ub),
    list("trials pooled", num(result$pooled$k), res$k)
  )
  if (spec$tau2 != "FE") {
    pi <- prediction_interval(res)
    compared <- c(compared, list(
      list("tau2", num(result$heterogeneity$tau2), res$tau2),
      list("I2 (%)", num(result$heterogeneity$I2), res$I2),
      list("prediction interval low", num(result$prediction_interval[[1]]), pi[1]),
      list("prediction interval high", num(result$prediction_interval[[2]]), pi[2])
    ))
  }
  r_trials <- setNames(rows$estimate, rows$trial)
  common <- intersect(names(app), names(r_trials))
  differences <- vapply(common, function(t) relative(app[[t]], r_trials[[t]]), 0)
  per_trial <- list("per-trial estimates", length(common), max(c(0, differences)))
  if (!is.null(spec$interaction)) {
    irows <- rbind(stage_one(frame, spec, interaction = TRUE), withheld_rows(folder, record, interaction = TRUE))
    iused <- irows[!is.na(irows$estimate), ]
    ires <- pool(iused$estimate, iused$se^2, spec)
    pooled <- result$interaction$pooled
    compared <- c(compared, list(
      list("interaction estimate", num(pooled$estimate), c(ires$b)),
      list("interaction SE", num(pooled$se), ires$se)
    ))
  }
  list(compared = compared, per_trial = per_trial, note = if (any(rows$source == "app"))
    paste("trials pooled with the app's stage-one estimates (data on the provider's platform):",
          paste(rows$trial[rows$source == "app"], collapse = ", ")) else "")
}

# ------------------------------------------------------------------------------------------------ one-stage

informative <- function(frame) {
  events <- tapply(frame$y, frame$trial, sum)
  size <- tapply(frame$y, frame$trial, length)
  frame[frame$trial %in% names(events)[events > 0 & events < size], , drop = FALSE]
}

# Per-trial columns (covariate x trial), centred within trial: the same model, better conditioned.
per_trial_columns <- function(frame, names) {
  own <- character()
  for (a in names) {
    centred <- frame[[a]] - ave(frame[[a]], frame$trial)
    for (t in levels(frame$trial)) {
      name <- paste0(a, "_in_", make.names(t))
      frame[[name]] <- ifelse(frame$trial == t, centred, 0)
      own <- c(own, name)
    }
  }
  attr(frame, "own") <- own
  frame
}

one_stage <- function(frame, spec, result) {
  measure <- spec$measure
  if (measure == "OR") frame <- informative(frame)
  frame$trial <- factor(frame$trial, levels = sort(unique(frame$trial), method = "radix"))
  frame$treat_c <- frame$treat - 0.5
  common <- "treat_c"
  own_names <- attr(frame, "covariates")
  if (!is.null(spec$interaction)) {
    means <- ave(frame$z, frame$trial)
    frame$t_within <- frame$treat_c * (frame$z - means)
    frame$t_across <- frame$treat_c * (means - mean(tapply(frame$z, frame$trial, mean)))
    common <- c(common, "t_within", "t_across")
    own_names <- c(own_names, "z")
  }
  frame <- per_trial_columns(frame, own_names)
  own <- attr(frame, "own")
  k <- nlevels(frame$trial)
  if (measure == "HR") {
    fit <- coxph(as.formula(paste("Surv(time, event) ~", rhs(c(common, own, "strata(trial)")))), frame,
                 ties = "efron", control = coxph.control(eps = 1e-11, iter.max = 100))
    beta <- coef(fit); cov <- vcov(fit); tau2 <- NA
  } else {
    fixed <- c(if (k > 1) "0 + trial" else "1", own, common)
    random <- if (k > 1) "(0 + treat_c | trial)" else NULL
    formula <- as.formula(paste("y ~", rhs(c(fixed, random))))
    if (measure == "MD") {
      if (k > 1) {
        fit <- lmer(formula, frame, REML = TRUE,
                    control = lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5)))
      } else {
        fit <- lm(formula, frame)
      }
    } else {
      quadrature <- if (is.null(spec$quadrature)) 1 else spec$quadrature
      if (k > 1) {
        fit <- glmer(formula, frame, binomial, nAGQ = quadrature,
                     control = glmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e6)))
      } else {
        fit <- glm(formula, binomial, frame, control = glm.control(epsilon = 1e-14, maxit = 100))
      }
    }
    if (k > 1) {
      beta <- fixef(fit)
      cov <- as.matrix(if (measure == "OR") vcov(fit, use.hessian = TRUE) else vcov(fit))
      tau2 <- as.numeric(VarCorr(fit)$trial)
    } else {
      beta <- coef(fit); cov <- vcov(fit); tau2 <- NA
    }
  }
  se <- sqrt(diag(cov))
  compared <- list(
    list("pooled estimate", num(result$pooled$estimate), unname(beta["treat_c"])),
    list("pooled SE", num(result$pooled$se), unname(se["treat_c"]))
  )
  if (!is.na(tau2) && !is.null(result$heterogeneity$tau2)) {
    compared <- c(compared, list(list("tau2", num(result$heterogeneity$tau2), tau2)))
  }
  if (!is.null(spec$interaction)) {
    compared <- c(compared, list(
      list("interaction within trials", num(result$interaction$within$estimate), unname(beta["t_within"])),
      list("  its SE", num(result$interaction$within$se), unname(se["t_within"])),
      list("interaction across trials", num(result$interaction$across$estimate), unname(beta["t_across"])),
      list("  its SE", num(result$interaction$across$se), unname(se["t_across"]))
    ))
  }
  list(compared = compared, per_trial = NULL, note = "")
}

# ------------------------------------------------------------------------------------------------ report

# Relative difference, measured against the app's value (or 1e-3 for values near 0, such as tau2 at its boundary).
relative <- function(app, r) {
  if (is.na(app) && is.na(r)) return(0)
  if (is.na(app) || is.na(r)) return(Inf)
  abs(r - app) / max(abs(app), 1e-3)
}

show <- function(x) if (is.na(x)) "NA" else formatC(x, digits = 10, format = "g")

reproduce <- function(entry) {
  folder <- entry$folder
  spec <- read_json_file(file.path(folder, "spec.json"))
  result <- read_json_file(file.path(folder, "result.json"))
  record <- read_json_file(file.path(folder, "run.json"))
  approach <- spec$approach
  cat(sprintf("\nAnalysis %s: %s\n  %s, %s%s%s, run #%s\n", entry$id, entry$name, approach, spec$measure,
              if (!is.null(spec$tau2)) paste0(", tau2 ", spec$tau2) else "",
              if (!is.null(spec$ci)) paste0(", CI ", spec$ci) else "", record$run))
  withheld <- vapply(record$inputs, function(input) is.null(input$file), TRUE)
  if (approach == "one-stage" && any(withheld)) {
    trials <- vapply(record$inputs[withheld], function(input) as.character(input$trial), "")
    cat("  NOT RE-RUN: a one-stage model needs every trial's rows, and the data of trial(s)",
        paste(trials, collapse = ", "), "stay on the provider's platform.\n")
    return("not_run")
  }
  d <- build_input(spec, record)
  if (is.null(d) && approach == "one-stage") {
    cat("  NOT RE-RUN: no trial's table is in the bundle.\n")
    return("not_run")
  }
  frame <- if (is.null(d)) NULL else analysis_frame(d, spec)
  said <<- character()
  outcome <- quietly(if (approach == "two-stage") {
    if (is.null(frame)) frame <- data.frame(trial = character(), treat = numeric())
    two_stage(frame, spec, folder, record, result)
  } else {
    one_stage(frame, spec, result)
  })
  tolerance <- TOLERANCE[[approach]]
  cat(sprintf("  %-30s %20s %20s %12s\n", "", "app", "R", "rel. diff"))
  ok <- TRUE
  for (item in outcome$compared) {
    difference <- relative(item[[2]], item[[3]])
    flag <- if (difference <= tolerance) "" else "  DIFFERS"
    ok <- ok && difference <= tolerance
    cat(sprintf("  %-30s %20s %20s %12.2e%s\n", item[[1]], show(item[[2]]), show(item[[3]]), difference, flag))
  }
  if (!is.null(outcome$per_trial)) {
    largest <- outcome$per_trial[[3]]
    ok_trials <- largest <= tolerance
    ok <- ok && ok_trials
    cat(sprintf("  %-30s %41s %12.2e%s\n", sprintf("per-trial estimates (%d)", outcome$per_trial[[2]]),
                "largest relative difference", largest, if (ok_trials) "" else "  DIFFERS"))
  }
  if (nzchar(outcome$note)) cat("  note:", outcome$note, "\n")
  for (text in unique(said)) cat("  R said:", text, "\n")
  cat(if (ok) "  reproduced\n" else "  NOT reproduced\n")
  if (ok) "reproduced" else "differs"
}

manifest <- read_json_file("manifest.json")
cat("Reproducing", length(manifest$analyses), "analyses of", manifest$review$title, "\n")
cat("R", paste(R.version$major, R.version$minor, sep = "."), "| metafor", as.character(packageVersion("metafor")),
    "| lme4", as.character(packageVersion("lme4")), "| survival", as.character(packageVersion("survival")),
    "| app engine ipdstats", manifest$engine_version, "\n")
outcomes <- vapply(manifest$analyses, function(entry) {
  tryCatch(reproduce(entry), error = function(error) {
    cat("  NOT RE-RUN: R stopped:", conditionMessage(error), "\n")
    "not_run"
  })
}, "")
reproduced <- sum(outcomes == "reproduced")
cat(sprintf("\nreproduced %d/%d analyses\n", reproduced, length(outcomes)))
quit(status = if (any(outcomes == "differs")) 1 else if (any(outcomes == "not_run")) 2 else 0)
