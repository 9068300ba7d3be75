/*
 * The YNL spec texts built into emd and emctl (see spec_text.c).
 */
#ifndef EMD_SPEC_TEXT_H
#define EMD_SPEC_TEXT_H

/* spec/dev-energymodel.yaml, NUL-terminated. */
extern const char emd_spec_dev_energymodel[];
/* spec/nlctrl.yaml, NUL-terminated. */
extern const char emd_spec_nlctrl[];

#endif
