-- Distance operators. Symmetric ones are their own commutators; the asymmetric ones take a
-- full-precision real[] query on the right.

CREATE OPERATOR <-> (LEFTARG = int8vec, RIGHTARG = int8vec, FUNCTION = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = int8vec, RIGHTARG = int8vec, FUNCTION = int8vec_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = int8vec, RIGHTARG = int8vec, FUNCTION = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = int8vec, RIGHTARG = int8vec, FUNCTION = l1_distance, COMMUTATOR = '<+>');

CREATE OPERATOR <-> (LEFTARG = int8vec, RIGHTARG = real[], FUNCTION = l2_distance);
CREATE OPERATOR <#> (LEFTARG = int8vec, RIGHTARG = real[], FUNCTION = int8vec_negative_inner_product);
CREATE OPERATOR <=> (LEFTARG = int8vec, RIGHTARG = real[], FUNCTION = cosine_distance);

CREATE OPERATOR <-> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = l2_distance, COMMUTATOR = '<->');
CREATE OPERATOR <#> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = int4vec_negative_inner_product, COMMUTATOR = '<#>');
CREATE OPERATOR <=> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = cosine_distance, COMMUTATOR = '<=>');
CREATE OPERATOR <+> (LEFTARG = int4vec, RIGHTARG = int4vec, FUNCTION = l1_distance, COMMUTATOR = '<+>');

CREATE OPERATOR <-> (LEFTARG = int4vec, RIGHTARG = real[], FUNCTION = l2_distance);
CREATE OPERATOR <#> (LEFTARG = int4vec, RIGHTARG = real[], FUNCTION = int4vec_negative_inner_product);
CREATE OPERATOR <=> (LEFTARG = int4vec, RIGHTARG = real[], FUNCTION = cosine_distance);

CREATE OPERATOR <~> (LEFTARG = bitvec, RIGHTARG = bitvec, FUNCTION = hamming_distance, COMMUTATOR = '<~>');
CREATE OPERATOR <%> (LEFTARG = bitvec, RIGHTARG = bitvec, FUNCTION = jaccard_distance, COMMUTATOR = '<%>');
CREATE OPERATOR <#> (LEFTARG = bitvec, RIGHTARG = real[], FUNCTION = bitvec_negative_inner_product);
CREATE OPERATOR <=> (LEFTARG = bitvec, RIGHTARG = real[], FUNCTION = cosine_distance);
