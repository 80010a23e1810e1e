// Linear algebra: products, triangular parts and diagonals, decompositions,
// solvers and norms. Families are tables: one row per op.
#include "tcltorch/commands.h"
#include "tcltorch/tensor_util.h"
#include <utility>

namespace tcltorch {

using at::Tensor;

// ---- products of two tensors: input other ----

namespace {
struct ProductOp {
  const char* name;
  const char* doc;
  Tensor (*fn)(const Tensor&, const Tensor&);
};
}  // namespace
static const ProductOp kProduct[] = {
    {"dot", "Inner product of two 1-D tensors (0-d result).", [](const Tensor& a, const Tensor& b) { return at::dot(a, b); }},
    {"outer", "Outer product of two 1-D tensors: out[i][j] = input[i] * other[j].",
     [](const Tensor& a, const Tensor& b) { return at::outer(a, b); }},
    {"kron", "Kronecker product.", [](const Tensor& a, const Tensor& b) { return at::kron(a, b); }},
};

static Tcl_Obj* cmdProduct(Call& c) {
  return c.result(c.data<ProductOp>().fn(c.tensorRef("input"), c.tensorRef("other")));
}

// ---- one matrix and one integer: input ?k? ----

namespace {
struct DiagonalOp {
  const char* name;
  const char* doc;
  const char* param;  // the integer's name
  const char* def;
  const char* aliases;
  Tensor (*fn)(const Tensor&, int64_t);
};
}  // namespace
static const DiagonalOp kDiagonal[] = {
    {"tril", "Lower triangle: elements on and below the diagonal-th diagonal, zeros above.", "diagonal", "0", "k",
     [](const Tensor& t, int64_t k) { return at::tril(t, k); }},
    {"triu", "Upper triangle: elements on and above the diagonal-th diagonal, zeros below.", "diagonal", "0", "k",
     [](const Tensor& t, int64_t k) { return at::triu(t, k); }},
    {"diag", "1-D input: a matrix with it on the diagonal-th diagonal; 2-D input: that diagonal.", "diagonal", "0",
     "k offset", [](const Tensor& t, int64_t k) { return at::diag(t, k); }},
    {"diagflat", "A matrix with the flattened input on the offset-th diagonal.", "offset", "0", "diagonal k",
     [](const Tensor& t, int64_t k) { return at::diagflat(t, k); }},
    {"matrix_power", "Square matrix to the integer power n (negative n: of the inverse).", "n", nullptr, "power",
     [](const Tensor& t, int64_t n) { return at::linalg_matrix_power(t, n); }},
};

static Tcl_Obj* cmdDiagonal(Call& c) {
  return c.result(c.data<DiagonalOp>().fn(c.tensorRef("input"), c.integer(c.data<DiagonalOp>().param)));
}

// ---- one matrix: input ----

namespace {
struct MatrixOp {
  const char* name;
  const char* doc;
  Tensor (*fn)(const Tensor&);
};
}  // namespace
static const MatrixOp kMatrix[] = {
    {"trace", "Sum of the main diagonal of a matrix (0-d).", [](const Tensor& t) { return at::trace(t); }},
    {"tensor_matrix_exp", "Matrix exponential of a square matrix (or a batch).",
     [](const Tensor& t) { return at::matrix_exp(t); }},
};

static Tcl_Obj* cmdMatrix(Call& c) {
  return c.result(c.data<MatrixOp>().fn(c.tensorRef("input")));
}

// ---- decompositions: a dict of named handles, PyTorch's field names ----

static Tcl_Obj* dictOf(Call& c, std::initializer_list<std::pair<const char*, Tensor>> parts) {
  Tcl_Obj* d = Tcl_NewListObj(0, nullptr);
  for (auto& p : parts) {
    Tcl_ListObjAppendElement(nullptr, d, Tcl_NewStringObj(p.first, -1));
    Tcl_ListObjAppendElement(nullptr, d, c.result(p.second));
  }
  return d;
}

static Tcl_Obj* cmdEigen(Call& c) {
  static const char* const kUplo[] = {"L", "U"};  // the order of the choices
  auto r = at::linalg_eigh(c.tensorRef("input"), kUplo[c.choice("uplo")]);
  return dictOf(c, {{"eigenvalues", std::get<0>(r)}, {"eigenvectors", std::get<1>(r)}});
}

static Tcl_Obj* cmdSvd(Call& c) {
  auto r = at::linalg_svd(c.tensorRef("input"), c.boolean("full_matrices"));
  // V (not V^H): the other API's key; A = U diag(S) V^T.
  return dictOf(c, {{"U", std::get<0>(r)}, {"S", std::get<1>(r)}, {"V", std::get<2>(r).mH()}});
}

static Tcl_Obj* cmdQr(Call& c) {
  static const char* const kModes[] = {"reduced", "complete", "r"};  // the order of the choices
  auto r = at::linalg_qr(c.tensorRef("input"), kModes[c.choice("mode")]);
  return dictOf(c, {{"Q", std::get<0>(r)}, {"R", std::get<1>(r)}});
}

static Tcl_Obj* cmdCholesky(Call& c) { return c.result(at::linalg_cholesky(c.tensorRef("input"), c.boolean("upper"))); }

static Tcl_Obj* cmdPinv(Call& c) {
  return c.result(at::linalg_pinv(c.tensorRef("input"), c.number("rcond"), c.boolean("hermitian")));
}

// ---- solvers ----

static Tcl_Obj* cmdSolveTriangular(Call& c) {
  return c.result(at::linalg_solve_triangular(c.tensorRef("A"), c.tensorRef("B"), c.boolean("upper"), c.boolean("left"),
                                              c.boolean("unitriangular")));
}

static Tcl_Obj* cmdCholeskySolve(Call& c) {
  return c.result(at::cholesky_solve(c.tensorRef("B"), c.tensorRef("L"), c.boolean("upper")));
}

static Tcl_Obj* cmdLuSolve(Call& c) {
  return c.result(at::linalg_lu_solve(c.tensorRef("LU_data"), c.tensorRef("LU_pivots"), c.tensorRef("B")));
}

static Tcl_Obj* cmdLstsq(Call& c) {
  c10::optional<double> rcond;
  if (c.has("rcond")) rcond = c.number("rcond");
  return c.result(std::get<0>(at::linalg_lstsq(c.tensorRef("A"), c.tensorRef("B"), rcond, c10::nullopt)));
}

// ---- norms, rank, condition number ----

// ord: a number (inf and -inf included), or fro or nuc.
static bool namedOrd(Call& c, const char* name, std::string* s, double* x) {
  if (!c.isNumber(name)) {
    *s = c.str(name);
    return true;
  }
  *x = c.number(name);
  return false;
}

static Tcl_Obj* cmdMatrixNorm(Call& c) {
  std::vector<int64_t> dim = c.has("dim") ? c.ints("dim") : std::vector<int64_t>{-2, -1};
  std::string s;
  double x;
  if (namedOrd(c, "ord", &s, &x)) return c.result(at::linalg_matrix_norm(c.tensorRef("input"), s, dim, c.boolean("keepdim")));
  return c.result(at::linalg_matrix_norm(c.tensorRef("input"), x, dim, c.boolean("keepdim")));
}

static Tcl_Obj* cmdVectorNorm(Call& c) {
  c10::optional<at::IntArrayRef> dim;
  std::vector<int64_t> d;
  if (c.has("dim")) dim = d = c.ints("dim");
  return c.result(at::linalg_vector_norm(c.tensorRef("input"), c.number("ord"), dim, c.boolean("keepdim")));
}

static Tcl_Obj* cmdMatrixRank(Call& c) {
  const Tensor& t = c.tensorRef("input");
  if (c.has("tol")) return c.result(at::linalg_matrix_rank(t, c.number("tol"), c.boolean("hermitian")));
  return c.result(at::linalg_matrix_rank(t, c10::optional<double>(), c10::optional<double>(), c.boolean("hermitian")));
}

static Tcl_Obj* cmdCond(Call& c) {
  if (!c.has("p")) return c.result(at::linalg_cond(c.tensorRef("input")));
  std::string s;
  double x;
  if (namedOrd(c, "p", &s, &x)) return c.result(at::linalg_cond(c.tensorRef("input"), s));
  return c.result(at::linalg_cond(c.tensorRef("input"), x));
}

// ---- many tensors ----

static Tcl_Obj* cmdCross(Call& c) {
  return c.result(at::linalg_cross(c.tensorRef("input"), c.tensorRef("other"), c.integer("dim")));
}

// dims: N (the last N of a with the first N of b), {{dims of a} {dims of b}},
// or one flat list used for both (the other API's form).
static Tcl_Obj* cmdTensordot(Call& c) {
  const Tensor &a = c.tensorRef("a"), &b = c.tensorRef("b");
  const auto& l = c.intLists("dims");
  if (l.size() == 1 && l[0].size() == 1) {  // N
    int64_t k = l[0][0];
    std::vector<int64_t> da, db;
    for (int64_t i = 0; i < k; ++i) {
      da.push_back(a.dim() - k + i);
      db.push_back(i);
    }
    return c.result(at::tensordot(a, b, da, db));
  }
  if (l.size() == 2 && (l[0].size() > 1 || l[1].size() > 1)) return c.result(at::tensordot(a, b, l[0], l[1]));
  std::vector<int64_t> same;
  for (auto& x : l) same.insert(same.end(), x.begin(), x.end());
  return c.result(at::tensordot(a, b, same, same));
}

static Tcl_Obj* cmdEinsum(Call& c) { return c.result(at::einsum(c.str("equation"), c.tensors("tensors"))); }

static Tcl_Obj* cmdBlockDiag(Call& c) { return c.result(at::block_diag(c.tensors("tensors"))); }

// Families are rows: one handler per family, each row carrying its member.
static void addProducts(std::vector<Command>& out) {
  for (const ProductOp& op : kProduct)
    out.push_back(Command{op.name, op.doc,
                          {{"input", Type::Tensor, nullptr, "tensor handle", "tensor tensor1 input1 vec1"},
                           {"other", Type::Tensor, nullptr, "tensor handle", "tensor2 input2 vec2"}},
                          cmdProduct}
                      .withData(&op));
}
static void addDiagonals(std::vector<Command>& out) {
  for (const DiagonalOp& op : kDiagonal)
    out.push_back(Command{op.name, op.doc,
                          {kInput, {op.param, Type::Int, op.def, "diagonal offset or power", op.aliases}},
                          cmdDiagonal}
                      .withData(&op));
}
static void addMatrices(std::vector<Command>& out) {
  for (const MatrixOp& op : kMatrix) out.push_back(Command{op.name, op.doc, {kInput}, cmdMatrix}.withData(&op));
}

std::vector<Command> tensorLinalgCommands() {
  const Param keepdim{"keepdim", Type::Bool, "0", "1 keeps reduced dimensions with size 1"};
  const Param tensors{"tensors", Type::TensorList, nullptr, "list of tensor handles", "inputs"};
  std::vector<Command> out = {
      {"cross", "Cross product of 3-vectors along dim.",
       {{"input", Type::Tensor, nullptr, "tensor handle", "tensor tensor1 input1"}, kOtherParam,
        {"dim", Type::Int, "-1", "dimension of size 3", "dimension"}},
       cmdCross},
      {"tensordot", "Sum of products over the dims of a and b (dims: N, {{dims of a} {dims of b}}, or one list for both).",
       {{"a", Type::Tensor, nullptr, "first tensor", "input"}, {"b", Type::Tensor, nullptr, "second tensor", "other"},
        {"dims", Type::IntLists, "2", "N (the last N dims of a with the first N of b), {{dims of a} {dims of b}}, or one list for both"}},
       cmdTensordot},
      {"einsum", "Einstein summation: einsum \"ij,jk->ik\" {a b}.",
       {{"equation", Type::String, nullptr, "subscripts, e.g. ij,jk->ik"}, tensors}, cmdEinsum},
      {"block_diag", "Block-diagonal matrix of the given tensors (0-, 1- or 2-D).", {tensors}, cmdBlockDiag},
      {"tensor_eigen", "Eigen-decomposition of a symmetric matrix: dict {eigenvalues h eigenvectors h} (ascending).",
       {kInput, {"uplo", Type::Choice, "L", "triangle to use", nullptr, "L U"}}, cmdEigen},
      {"tensor_svd", "Singular value decomposition A = U diag(S) V^T: dict {U h S h V h}.",
       {kInput, {"full_matrices", Type::Bool, "0", "1: square U and V"}}, cmdSvd},
      {"tensor_qr", "QR decomposition: dict {Q h R h}.",
       {kInput, {"mode", Type::Choice, "reduced", "reduced, complete or r", nullptr, "reduced complete r"}}, cmdQr},
      {"tensor_cholesky", "Cholesky factor of a symmetric positive-definite matrix (lower, or upper).",
       {kInput, {"upper", Type::Bool, "0", "1: the upper factor U with A = U^T U"}}, cmdCholesky},
      {"tensor_pinv", "Moore-Penrose pseudo-inverse.",
       {kInput, {"rcond", Type::Double, "1e-15", "relative cutoff of small singular values"},
        {"hermitian", Type::Bool, "0", "1: input is symmetric"}},
       cmdPinv},
      {"solve_triangular", "Solve A X = B (or X A = B with left 0) for triangular A.",
       {{"B", Type::Tensor, nullptr, "right-hand side", "b"}, {"A", Type::Tensor, nullptr, "triangular matrix", "a"},
        {"upper", Type::Bool, "1", "1: A is upper triangular"}, {"left", Type::Bool, "1", "1: solve A X = B"},
        {"unitriangular", Type::Bool, "0", "1: assume ones on A's diagonal"}},
       cmdSolveTriangular},
      {"cholesky_solve", "Solve A X = B given A's Cholesky factor L.",
       {{"B", Type::Tensor, nullptr, "right-hand side", "b"}, {"L", Type::Tensor, nullptr, "Cholesky factor", "l"},
        {"upper", Type::Bool, "0", "1: L is the upper factor"}},
       cmdCholeskySolve},
      {"lu_solve", "Solve A X = B given A's LU factorisation (LU_data, LU_pivots from torch.linalg.lu_factor).",
       {{"B", Type::Tensor, nullptr, "right-hand side", "b"}, {"LU_data", Type::Tensor, nullptr, "packed LU factors", "luData"},
        {"LU_pivots", Type::Tensor, nullptr, "pivots (int32, from 1)", "luPivots"}},
       cmdLuSolve},
      {"lstsq", "Least-squares solution X of A X = B.",
       {{"B", Type::Tensor, nullptr, "right-hand side", "b"}, {"A", Type::Tensor, nullptr, "coefficient matrix", "a"},
        {"rcond", Type::Double, kOptional, "relative cutoff of small singular values"}},
       cmdLstsq},
      {"matrix_norm", "Matrix norm over two dims (ord: fro, nuc, or a number such as 1, 2, -2, inf).",
       {kInput, {"ord", Type::NumberOrChoice, "fro", "fro, nuc or a number", nullptr, "fro nuc"},
        {"dim", Type::IntList, kOptional, "two dimensions (default: the last two)"}, keepdim},
       cmdMatrixNorm},
      {"vector_norm", "Vector norm of all elements, or over dim.",
       {kInput, {"ord", Type::Double, "2", "order (inf, -inf, 0 allowed)"},
        {"dim", Type::IntList, kOptional, "dimension(s) (default: all)"}, keepdim},
       cmdVectorNorm},
      {"matrix_rank", "Numerical rank (singular values above tol).",
       {kInput, {"tol", Type::Double, kOptional, "absolute tolerance (default: from the dtype's eps)"},
        {"hermitian", Type::Bool, "0", "1: input is symmetric"}},
       cmdMatrixRank},
      {"cond", "Condition number (p: 2 by default, or fro, nuc, a number).",
       {kInput, {"p", Type::NumberOrChoice, kOptional, "norm order: a number, fro or nuc", nullptr, "fro nuc"}}, cmdCond},
  };
  addProducts(out);
  addDiagonals(out);
  addMatrices(out);
  return out;
}

}  // namespace tcltorch
