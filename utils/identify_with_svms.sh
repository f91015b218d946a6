# Identification SVMs of a recipe script (source this file):
#   . utils/identify_with_svms.sh
#   identify_with_svms <exp-root> <listed-data> <system> <vectors> <vec-prefix> <plda-conf> [steps/identify_svm.sh options...]
# runs steps/identify_svm.sh on <vectors> (ivector.scp | xvector.scp) of the dirs <vec-prefix>iden_{train,val,test}
# twice, recording the RESULTS rows <system>_svm (plain) and <system>_plda_svm (LDA + PLDA-projected: the
# paper's back-end) in <exp-root>/RESULTS, with the LDA dim of <plda-conf>; <listed-data> is the data dir
# of the test list the figures are for.
identify_with_svms() {
  local exp_root=$1 listed=$2 system=$3 vectors=$4 prefix=$5 plda_conf=$6 projection lda_dim
  shift 6
  lda_dim=$(awk -F= '/^--lda-dim=/ {print $2+0}' "$plda_conf")
  for projection in none plda; do
    steps/identify_svm.sh --exp-root "$exp_root" --system ${system}$([ $projection = plda ] && echo _plda)_svm \
      --vectors "$vectors" --projection $projection --lda-dim "$lda_dim" --listed-data "$listed" "$@" \
      ${prefix}iden_train ${prefix}iden_val ${prefix}iden_test
  done
}
