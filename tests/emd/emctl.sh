echo "1..0 # skip"
