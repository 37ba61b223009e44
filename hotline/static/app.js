// hotline front-end behaviour; no inline scripts (CSP).
