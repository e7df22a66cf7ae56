#include "features/approx_distinct.h"
